/*
 * The whole hit workflow in a real headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core) against a real
 * alpr-alertd and a real alpr-matchd with its SQLite file: a READ of a
 * listed plate becomes a hit, the page shows it, the deputy confirms the
 * plate, verifies through CLETS and only then may take an action (R5), and
 * the database shows each step with the user.  Prints TAP.  Started by
 * tests/system/074-alert-matchd.sh, which provides:
 *   ALERT_URL       the page
 *   ALERT_OUT       folder for screenshots
 *   ALERT_DB        matchd's SQLite file (read with the sqlite3 CLI)
 *   ALERT_SEND      shell command sending READ number $1 to match.sock
 *   ALERT_USER / ALERT_PASSWORD  a trained sworn user
 */
'use strict';

const { run } = require('./launch');
const { execFileSync } = require('child_process');
const path = require('path');

const URL_ = process.env.ALERT_URL;
const OUT = process.env.ALERT_OUT;
const DB = process.env.ALERT_DB;
const USER = process.env.ALERT_USER;
const PASSWORD = process.env.ALERT_PASSWORD;
/* Under a loaded machine a READ takes a while to become a hit on the page. */
const SLOW = 20000;

function sql(q) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', DB, q], { encoding: 'utf8' }).trim();
}

function send(i) {
  execFileSync('sh', ['-c', process.env.ALERT_SEND, 'send', String(i)], { stdio: 'ignore' });
}

/* The hit of the read with plate, as matchd stored it: "id|state|disposition|case". */
function dbHit(plate) {
  return sql(`SELECT h.id || '|' || h.state || '|' || ifnull(h.disposition, '') || '|' ||
    ifnull(h.disposition_case, '') FROM hits h JOIN reads r ON r.rowid = h.read_rowid
    WHERE r.plate = '${plate}'`);
}

function dbEvents(id) {
  return sql(`SELECT group_concat(user || ':' || from_state || '>' || to_state ||
    ifnull(':' || disposition, '') || ifnull(':' || case_number, ''), ' ')
    FROM (SELECT * FROM hit_events WHERE hit_id = ${Number(id)} ORDER BY id)`);
}

run(OUT, async (ctx, ok) => {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  await page.goto(URL_);

  /* Login with the credentials alprctl manages; matchd decides. */
  await page.fill('#login-user', USER);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-button');
  await page.waitForSelector('#app:not([hidden])', { timeout: SLOW });
  ok((await page.textContent('#who')) === USER, 'the deputy logs in with the credentials alprctl manages');
  await page.waitForFunction(() => window.alprStats.connected === true, null, { timeout: SLOW });

  /* A READ of a listed plate: matchd stores the hit and sends it to alertd. */
  send(0);
  await page.waitForFunction(() => document.getElementById('plate').textContent === 'H0',
    null, { timeout: SLOW });
  const [id, st] = dbHit('H0').split('|');
  ok(Number(id) > 0 && st === 'NEW', 'a READ of a listed plate is on the page as a new hit', `hit ${id}`);
  await page.waitForFunction((i) => {
    const r = document.querySelector(`#hit-list tr[data-id="${i}"]`);
    return r !== null;
  }, Number(id), { timeout: SLOW });
  for (let i = 0; i < 100 && sql(`SELECT count(*) FROM access_log WHERE op = 'hit_shown'
      AND result_ids LIKE '%${Number(id)}%'`) !== '1'; i++) await page.waitForTimeout(100);
  ok(sql(`SELECT user FROM access_log WHERE op = 'hit_shown' AND result_ids LIKE '%${Number(id)}%'`) ===
    'alpr-alertd', 'matchd records that the hit was shown');
  ok(/verify through\s+CLETS/.test(await page.textContent('#prompt')) && await page.isVisible('#prompt'),
    'the page says to confirm the plate and verify through CLETS before any action');

  const buttons = async () => (await page.$$eval('#steps button', (b) => b.map((x) =>
    x.dataset.to + (x.dataset.disposition ? '/' + x.dataset.disposition : '')))).join();
  const forge = async (i, body) => page.evaluate(async ([hid, b]) => {
    const s = await (await fetch('/api/state')).json();
    const r = await fetch(`/api/hit/${hid}/step`, { method: 'POST',
      headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
      body: JSON.stringify(b) });
    return r.status;
  }, [i, body]);
  const stepTo = async (label, text) => {
    await page.click(`#steps button:has-text("${label}")`);
    await page.waitForFunction((s) => document.getElementById('hit-state').textContent === s, text,
      { timeout: SLOW });
  };
  const arrest = { to: 'DISPOSED', disposition: 'arrest', case: '24-000009' };

  /* NEW: only plate confirmation or misread; no action offered or accepted. */
  ok(await buttons() === 'VISUALLY_CONFIRMED,MISREAD' && !(await page.isVisible('#action')),
    'a new hit offers only "Plate matches vehicle" and "Misread"', await buttons());
  ok(await forge(id, arrest) === 409 && dbHit('H0') === `${id}|NEW||`,
    'an action forged on a new hit is refused and not stored');

  /* VISUALLY_CONFIRMED: CLETS first; still no action. */
  await stepTo('Plate matches vehicle', 'PLATE CONFIRMED');
  ok(dbHit('H0') === `${id}|VISUALLY_CONFIRMED||`, '"Plate matches vehicle" is stored by matchd');
  ok(await buttons() === 'CLETS_CONFIRMED,CLETS_NOT_CONFIRMED' && !(await page.isVisible('#action')),
    'then only the CLETS verification is offered', await buttons());
  ok(await forge(id, arrest) === 409 && dbHit('H0') === `${id}|VISUALLY_CONFIRMED||`,
    'an action before CLETS verification is refused and not stored (R5)');

  /* CLETS_CONFIRMED: now an action, with a case number. */
  await stepTo('CLETS confirmed', 'CLETS CONFIRMED');
  ok(dbHit('H0') === `${id}|CLETS_CONFIRMED||`, '"CLETS confirmed" is stored by matchd');
  ok(await buttons() === 'DISPOSED/action,DISPOSED/no-action' && await page.isVisible('#action'),
    'only after CLETS verification is an action offered', await buttons());
  await page.screenshot({ path: path.join(OUT, 'alert-clets-confirmed.png') });
  await page.selectOption('#action', 'arrest');
  await page.fill('#case', '24-000009');
  await page.click('#steps button:has-text("Action taken")');
  await page.waitForSelector('#idle-text:not([hidden])', { timeout: SLOW });
  ok(dbHit('H0') === `${id}|DISPOSED|arrest|24-000009`,
    'the action with its case number is stored; the page goes idle');
  const ev = dbEvents(id);
  ok(ev === `${USER}:NEW>VISUALLY_CONFIRMED ${USER}:VISUALLY_CONFIRMED>CLETS_CONFIRMED ` +
    `${USER}:CLETS_CONFIRMED>DISPOSED:arrest:24-000009`,
    'the database shows each transition with the user', ev);
  ok(await forge(id, { to: 'VISUALLY_CONFIRMED' }) === 409, 'a step back from a final state is refused');

  /* A second hit: the plate matches, CLETS does not confirm: cleared, never an action. */
  send(50);
  await page.waitForFunction(() => document.getElementById('plate').textContent === 'H50',
    null, { timeout: SLOW });
  const id2 = dbHit('H50').split('|')[0];
  await stepTo('Plate matches vehicle', 'PLATE CONFIRMED');
  await page.click('#steps button:has-text("CLETS not confirmed")');
  await page.waitForSelector('#idle-text:not([hidden])', { timeout: SLOW });
  ok(dbHit('H50') === `${id2}|CLETS_NOT_CONFIRMED||`, 'CLETS not confirmed clears the hit in the database');
  ok(await forge(id2, arrest) === 409 && dbHit('H50') === `${id2}|CLETS_NOT_CONFIRMED||`,
    'a cleared hit takes no action');
  const listText = await page.textContent('#hit-list');
  ok(/ACTION: ARREST/.test(listText) && /CLEARED/.test(listText), 'today\'s list shows both hits with their state');
});
