/*
 * The MDC page in a real headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core), against a running alpr-alertd.  Prints TAP.
 * Started by tests/system/070-alert-page.sh, which provides:
 *   ALERT_URL    the page, e.g. http://127.0.0.1:18088/
 *   ALERT_SOCK   alertd's alert.sock (hits are injected there)
 *   ALERT_PEER   tests/tools/alert-peer
 *   ALERT_OUT    folder for screenshots and images
 *   ALERT_RECORD command printing the workflow record as JSON lines
 *                (matchd's database, or the control stand-in's log)
 *   ALERT_USER / ALERT_PASSWORD  a trained user
 */
'use strict';

const { run } = require('./launch');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const URL_ = process.env.ALERT_URL;
const OUT = process.env.ALERT_OUT;
const PEER = process.env.ALERT_PEER;
const SOCK = process.env.ALERT_SOCK;
const USER = process.env.ALERT_USER || 'deputy1';
const PASSWORD = process.env.ALERT_PASSWORD || 'secret';

function record() {
  const out = execFileSync('sh', ['-c', process.env.ALERT_RECORD], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function inject(args) {
  return execFileSync(PEER, ['hits', SOCK, ...args], { encoding: 'utf8' });
}

/* Synthetic plate and vehicle pictures (JPEG) drawn by the browser itself. */
async function makeImages(browser) {
  const p = await browser.newPage();
  await p.setViewportSize({ width: 480, height: 240 });
  await p.setContent(`<body style="margin:0;background:#fff">
    <div id="c" style="width:300px;height:150px;background:#f6f6f6;border:6px solid #223;
      border-radius:10px;font:bold 64px monospace;display:flex;align-items:center;
      justify-content:center;color:#123a8c">7ABC123</div>
    <div id="v" style="width:480px;height:240px;background:linear-gradient(#8ab,#456);
      position:absolute;top:0;left:0;z-index:-1"></div></body>`);
  const crop = path.join(OUT, 'crop.jpg');
  const ctx = path.join(OUT, 'context.jpg');
  await p.locator('#c').screenshot({ path: crop, type: 'jpeg', quality: 70 });
  await p.screenshot({ path: ctx, type: 'jpeg', quality: 60 });
  await p.close();
  return { crop, ctx };
}

run(OUT, async (ctx, ok) => {
  const img = await makeImages(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  await page.goto(URL_);

  /* Login: a wrong password is refused, the right one opens the page. */
  await page.fill('#login-user', USER);
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '');
  ok(await page.isVisible('#login'), 'a wrong password is refused',
    await page.textContent('#login-error'));
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-button');
  await page.waitForSelector('#app:not([hidden])', { timeout: 5000 });
  ok((await page.textContent('#who')) === USER, 'login with the right password shows the page');
  const cookies = await ctx.cookies();
  const sc = cookies.find((c) => c.name === 'alpr_session');
  ok(sc && sc.httpOnly && sc.sameSite === 'Strict', 'session cookie is HttpOnly and SameSite=Strict');
  await page.waitForFunction(() => window.alprStats.connected === true, null, { timeout: 5000 });

  /* A hit injected into alert.sock appears within 500 ms. */
  const t0 = Date.now();
  inject(['--first', '1001', '--plate', '7ABC123', '--category', 'stolen_vehicle',
    '--source', 'NCIC', '--priority', '1', '--match', 'ocr', '--differs', '3',
    '--crop', img.crop, '--context', img.ctx, '--entry', '501']);
  await page.waitForFunction(() => document.getElementById('plate').textContent === '7ABC123',
    null, { timeout: 5000, polling: 'raf' });
  const lat = await page.evaluate(() => window.alprStats.latencies.find((l) => l.id === 1001));
  console.log(`# hit-to-page latency: ${lat.ms.toFixed(1)} ms drawn, ${lat.sse.toFixed(1)} ms` +
    ` SSE event (wall ${Date.now() - t0} ms incl. peer start)`);
  ok(lat.ms < 500, 'an injected hit is on the page within 500 ms', `${lat.ms.toFixed(1)} ms`);
  ok(/stolen vehicle/i.test(await page.textContent('#banner')) &&
    /NCIC/.test(await page.textContent('#banner')), 'banner names category and source');
  ok((await page.textContent('#plate .diff')) === 'C', 'the differing character is highlighted');
  ok(/verify through\s+CLETS/.test(await page.textContent('#prompt')) && await page.isVisible('#prompt'),
    'the mandatory confirm-and-verify prompt is shown');
  ok(!(await page.isVisible('#person')), 'no vehicle-not-person reminder for a stolen car');
  await page.waitForFunction(() => {
    const i = document.getElementById('crop');
    return i.complete && i.naturalWidth > 0;
  }, null, { timeout: 5000 });
  ok(true, 'the plate crop loads from an opaque image id');
  const src = await page.getAttribute('#crop', 'src');
  ok(/^img\/[0-9a-f]{32}$/.test(src) && !src.includes('7ABC123'), 'no plate in the image URL', src);
  ok(/38\.58157, -121\.49440, fix 0\.4 s old/.test(await page.textContent('#details')),
    'location and GPS fix age shown');

  /* Day and night screenshots. */
  await page.evaluate(() => { localStorage.setItem('alpr-night', 'day'); });
  await page.click('#bar');
  await page.waitForTimeout(1100);
  await page.screenshot({ path: path.join(OUT, 'alert-day.png') });
  await page.evaluate(() => { localStorage.setItem('alpr-night', 'night'); });
  await page.waitForTimeout(1100);
  ok(await page.evaluate(() => document.body.classList.contains('night')), 'night mode switches');
  await page.screenshot({ path: path.join(OUT, 'alert-night.png') });
  ok(fs.statSync(path.join(OUT, 'alert-day.png')).size > 10000 &&
    fs.statSync(path.join(OUT, 'alert-night.png')).size > 10000, 'day and night screenshots saved');
  await page.evaluate(() => { localStorage.setItem('alpr-night', 'day'); });

  /* A person-associated hit of lower priority queues behind, with the reminder. */
  inject(['--first', '1002', '--plate', '8XYZ987', '--category', 'wanted_person',
    '--source', 'CLETS', '--priority', '2', '--person', '--entry', '502']);
  await page.waitForFunction(() => document.getElementById('banner-queue').textContent.includes('1 more'),
    null, { timeout: 3000 });
  ok((await page.textContent('#plate')) === '7ABC123', 'the more urgent hit stays on top, the other queues');

  /* The workflow buttons walk the state machine; each step reaches the record with the user. */
  const stepTo = async (label, state) => {
    await page.click(`#steps button:has-text("${label}")`);
    await page.waitForFunction((s) => document.getElementById('hit-state').textContent === s, state,
      { timeout: 3000 });
  };
  ok((await page.$$eval('#steps button', (b) => b.map((x) => x.dataset.to))).join() ===
    'VISUALLY_CONFIRMED,MISREAD', 'a new hit offers only "Plate matches vehicle" and "Misread"');
  await stepTo('Plate matches vehicle', 'PLATE CONFIRMED');
  ok(true, '"Plate matches vehicle" moves the hit to visually confirmed');
  await page.keyboard.press('1');   /* keyboard shortcut: CLETS confirmed */
  await page.waitForFunction(() => document.getElementById('hit-state').textContent === 'CLETS CONFIRMED',
    null, { timeout: 3000 });
  ok(true, 'key 1 moves the hit to CLETS confirmed');
  await page.click('#steps button:has-text("Action taken")');
  await page.waitForFunction(() => document.getElementById('step-error').textContent !== '');
  ok((await page.textContent('#hit-state')) === 'CLETS CONFIRMED',
    'action taken without a case number is not sent', await page.textContent('#step-error'));
  await page.selectOption('#action', 'arrest');
  await page.fill('#case', 'CAD-2026-1128');
  await page.click('#steps button:has-text("Action taken")');
  await page.waitForFunction(() => document.getElementById('plate').textContent === '8XYZ987',
    null, { timeout: 3000 });
  ok(true, 'action taken with a CAD number resolves the hit; the queued one comes up');
  ok(await page.isVisible('#person') &&
    /vehicle/.test(await page.textContent('#person')), 'the person hit shows the vehicle-not-person reminder');

  const steps = record().filter((r) => r.op === 'hit_transition' && r.args && r.args.id === 1001);
  ok(steps.map((s) => s.args.to).join() === 'VISUALLY_CONFIRMED,CLETS_CONFIRMED,DISPOSED',
    'the record has each transition in order', steps.map((s) => s.args.to).join());
  ok(steps.every((s) => s.session) && steps[2].case === 'CAD-2026-1128' &&
    steps[2].args.disposition === 'arrest',
    'each transition carries the user\'s session, the disposition its kind and CAD number');
  const listText = await page.textContent('#hit-list');
  ok(/ACTION: ARREST/.test(listText) && /NEW/.test(listText), 'today\'s list shows each hit with its state');

  /* A forged illegal step (valid session and CSRF) is refused and never recorded. */
  /* (Loading /api/state asks for the hot-list ages: only workflow steps count here.) */
  const nSteps = () => record().filter((r) => r.op === 'hit_transition').length;
  const before = nSteps();
  const forged = await page.evaluate(async () => {
    const s = await (await fetch('/api/state')).json();
    const r1 = await fetch('/api/hit/1002/step', { method: 'POST',
      headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'DISPOSED', disposition: 'arrest', case: 'X1' }) });
    const r2 = await fetch('/api/hit/1001/step', { method: 'POST',
      headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'VISUALLY_CONFIRMED' }) });
    const r3 = await fetch('/api/hit/1002/step', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'VISUALLY_CONFIRMED' }) });
    return [r1.status, r2.status, r3.status];
  });
  ok(forged[0] === 409, 'a forged disposition before CLETS verification is refused', `HTTP ${forged[0]}`);
  ok(forged[1] === 409, 'a forged step back from a final state is refused', `HTTP ${forged[1]}`);
  ok(forged[2] === 403, 'a POST without the CSRF token is refused', `HTTP ${forged[2]}`);
  ok(nSteps() === before, 'nothing of the refused requests reached the record');

  /* Misread on the person hit; the page goes idle. */
  await page.keyboard.press('2');
  await page.waitForSelector('#idle-text:not([hidden])', { timeout: 3000 });
  ok(true, 'key 2 records a misread; no hit left waiting');

  /* Export button: same control op as `alprctl hit export`. */
  await page.click('#hit-list tr:has-text("7ABC123")');
  await page.fill('#case', 'CAD-2026-1128');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), page.click('#export')]);
  const exp = record().filter((r) => r.op === 'hit_export');
  ok(dl && exp.length === 1 && exp[0].case === 'CAD-2026-1128' && exp[0].args.id === 1001,
    'the export button asks matchd for the report attachment with the case number');
  const saved = path.join(OUT, 'export-' + dl.suggestedFilename());
  await dl.saveAs(saved);
  ok(/^alpr-hit-1001-hit\.(json|html)$/.test(dl.suggestedFilename()) &&
    /1001/.test(fs.readFileSync(saved, 'utf8')), 'the report file streamed by matchd is downloaded',
    dl.suggestedFilename());

});
