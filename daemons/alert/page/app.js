/*
 * The MDC page's script: shows the hit the deputy must handle now, walks
 * the workflow through alpr-alertd (which asks alpr-matchd), and keeps
 * today's list and camera health live through Server-Sent Events.  Every
 * text from the server goes through textContent, never innerHTML.
 */
'use strict';

/* [to, disposition, label, class]: the steps of libalpr's hit workflow (R5). */
const STEPS = {
  NEW: [['VISUALLY_CONFIRMED', null, 'Plate matches vehicle', 'yes'], ['MISREAD', null, 'Misread', 'no']],
  VISUALLY_CONFIRMED: [['CLETS_CONFIRMED', null, 'CLETS confirmed', 'yes'],
    ['CLETS_NOT_CONFIRMED', null, 'CLETS not confirmed (cleared)', 'no']],
  CLETS_CONFIRMED: [['DISPOSED', 'action', 'Action taken', 'yes'], ['DISPOSED', 'no-action', 'No action', 'no']],
};
const STATE_TEXT = {
  NEW: 'NEW', VISUALLY_CONFIRMED: 'PLATE CONFIRMED', MISREAD: 'MISREAD',
  CLETS_CONFIRMED: 'CLETS CONFIRMED', CLETS_NOT_CONFIRMED: 'CLEARED (CLETS NOT CONFIRMED)',
  DISPOSED: 'DISPOSED',
};
const FINAL = new Set(['MISREAD', 'CLETS_NOT_CONFIRMED', 'DISPOSED']);

function stateText(h) {
  if (h.state === 'DISPOSED' && h.disposition) {
    return h.disposition === 'no-action' ? 'NO ACTION' : `ACTION: ${h.disposition.toUpperCase()}`;
  }
  return STATE_TEXT[h.state] || h.state;
}

const $ = (id) => document.getElementById(id);
const hits = new Map();
let csrf = '';
let user = null;
let nightCfg = { start: 19, end: 7 };
let pinned = null;        /* a hit the deputy picked from the list */
let shownId = null;
let drawnHit = null;      /* the hit object last drawn: every update replaces it in hits */
let es = null;
let audio = { mute: false, volume: 80 };

/* Latency probe for the tests and the bench: hit received -> on the page. */
window.alprStats = { latencies: [], rendered: 0 };

function now() { return performance.timeOrigin + performance.now(); }

async function post(url, body) {
  const r = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body || {}),
  });
  let j = {};
  try { j = await r.json(); } catch (e) { /* empty body */ }
  return { ok: r.ok, status: r.status, body: j };
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fmtTime(usec) {
  if (!usec) return '';
  return new Date(usec / 1000).toLocaleTimeString([], { hour12: false });
}

function categoryText(h) {
  return String((h.entry && h.entry.category) || 'hot list').replace(/[_-]+/g, ' ');
}

/* The hit to show: a pinned one, else the most urgent unresolved (oldest first). */
function current() {
  if (pinned !== null && hits.has(pinned)) return hits.get(pinned);
  let best = null;
  for (const h of hits.values()) {
    if (FINAL.has(h.state) || h.quiet) continue;
    if (!best || h.priority < best.priority ||
        (h.priority === best.priority && h.received_usec < best.received_usec)) best = h;
  }
  return best;
}

function waiting() {
  let n = 0;
  for (const h of hits.values()) if (!FINAL.has(h.state) && !h.quiet) n++;
  return n;
}

function renderPlate(h) {
  const box = $('plate');
  box.textContent = '';
  // What met the entry: the read's plate or one of its candidates
  // (match.candidate); differs are positions in it.
  const plate = (h.match && h.match.candidate) || (h.read && h.read.plate) || '';
  const differs = new Set((h.match && h.match.differs) || []);
  for (let i = 0; i < plate.length; i++) {
    box.appendChild(el('span', plate[i], differs.has(i) ? 'diff' : null));
  }
}

function matchText(h) {
  const m = h.match || {};
  const n = (m.differs || []).length;
  const top = (h.read && h.read.plate) || '';
  const alt = m.candidate && m.candidate !== top ? ` (alternative reading; camera read ${top})` : '';
  if (m.type === 'exact' || !m.type) return `Exact match${alt}`;
  if (m.type === 'ocr') return `OCR-tolerant match: ${n} character${n === 1 ? ' differs' : 's differ'} (highlighted)${alt}`;
  if (m.type === 'wildcard') return `Partial / wildcard hot-list entry${alt}`;
  return m.type + alt;
}

function gpsText(h) {
  const g = (h.read && h.read.gps) || {};
  if (!g.fix) return 'no GPS fix';
  const age = g.age_ms !== undefined ? `, fix ${(g.age_ms / 1000).toFixed(1)} s old` : '';
  return `${Number(g.lat).toFixed(5)}, ${Number(g.lon).toFixed(5)}${age}`;
}

function renderDetails(h) {
  const dl = $('details');
  dl.textContent = '';
  const e = h.entry || {};
  const r = h.read || {};
  const rows = [
    ['Time', fmtTime(r.capture_usec || h.received_usec)],
    ['Camera', r.camera],
    ['Location', gpsText(h)],
    ['Match', matchText(h)],
    ['State check', h.state_check],
    ['Read confidence', r.confidence !== undefined ? `${Math.round(r.confidence * 100)} %` : null],
    ['Hot-list plate', e.plate],
    ['Entry', e.description],
    ['List', e.list],
    ['Entry id', e.id],
    ['Hit id', h.id],
    ['Seen', h.seen > 1 ? `${h.seen} times in the cool-down` : null],
    ['Retro', h.retro ? 'matched by a newer hot list against an earlier read' : null],
  ];
  for (const s of h.steps || []) {
    rows.push([STATE_TEXT[s.to] || s.to, `${fmtTime(s.usec)} by ${s.user}` +
      `${s.disposition ? ', ' + s.disposition : ''}${s.case ? ' (case ' + s.case + ')' : ''}`]);
  }
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === '') continue;
    dl.appendChild(el('dt', k));
    dl.appendChild(el('dd', v));
  }
}

function renderSteps(h) {
  const box = $('steps');
  box.textContent = '';
  const steps = (STEPS[h.state] || []).filter(([to]) => (h.legal || []).includes(to));
  steps.forEach(([to, disp, label, cls], i) => {
    const b = el('button', `${label}  [${i + 1}]`, cls);
    b.dataset.to = to;
    if (disp) b.dataset.disposition = disp;
    b.addEventListener('click', () => step(h.id, to, disp));
    box.appendChild(b);
  });
  /* The case or CAD number: for a disposition with action, and for the export. */
  $('case-row').hidden = h.state !== 'CLETS_CONFIRMED' && !FINAL.has(h.state);
  $('action-row').hidden = h.state !== 'CLETS_CONFIRMED';
}

function renderAlert() {
  const h = current();
  const sec = $('alert');
  if (!h) {
    sec.className = 'idle';
    $('alert-body').hidden = true;
    $('idle-text').hidden = false;
    shownId = null;
    drawnHit = null;
    return;
  }
  const fresh = shownId !== h.id;
  shownId = h.id;
  const more = waiting() - (FINAL.has(h.state) ? 0 : 1);
  $('banner-queue').textContent = more > 0 ? `${more} more waiting` : '';
  /* The same hit as drawn, unchanged (a burst of others queued behind it): done. */
  if (!fresh && drawnHit === h) return;
  drawnHit = h;
  sec.className = `p${Math.min(Math.max(h.priority, 1), 4)}${fresh ? ' fresh' : ''}`;
  $('idle-text').hidden = true;
  $('alert-body').hidden = false;
  $('banner-category').textContent = categoryText(h);
  $('banner-source').textContent = (h.entry && h.entry.source) || '';
  renderPlate(h);
  $('plate-state').textContent = (h.read && h.read.state) || (h.entry && h.entry.state) || '';
  $('hit-state').textContent = stateText(h);
  $('person').hidden = !h.person;
  renderSteps(h);
  $('crop').hidden = !h.crop;
  if (h.crop && $('crop').getAttribute('src') !== h.crop) $('crop').src = h.crop;
  $('context').hidden = !h.context;
  if (h.context && $('context').getAttribute('src') !== h.context) $('context').src = h.context;
  renderDetails(h);
  $('silence').hidden = h.acked || FINAL.has(h.state);
  if (fresh) { $('step-error').textContent = ''; $('case').value = ''; }
}

const LIST_MAX = 200;   /* rows drawn; a shift has far fewer hits */
/*
 * Today's list is kept, not rebuilt: each hit has its row, redrawn only
 * when what it shows changed, and rows move only when the order did.  A
 * burst of hits then costs a few new rows per frame, not the whole list.
 */
const rows = new Map();   /* hit id -> { tr, key } */

function fillRow(tr, h, sel) {
  tr.textContent = '';
  tr.className = sel ? 'sel' : '';
  tr.appendChild(el('td', fmtTime(h.received_usec)));
  tr.appendChild(el('td', h.read && h.read.plate, 'plate'));
  tr.appendChild(el('td', categoryText(h) + (h.quiet ? ' (repeat)' : '')));
  tr.appendChild(el('td', h.priority));
  tr.appendChild(el('td', stateText(h), FINAL.has(h.state) ? 'final' : null));
}

function renderList() {
  const tb = $('hit-list');
  const all = [...hits.values()].sort((a, b) => b.received_usec - a.received_usec || b.id - a.id);
  const shown = all.slice(0, LIST_MAX);
  const cur = current();
  const keep = new Set(shown.map((h) => h.id));
  for (const [id, r] of rows) {
    if (!keep.has(id)) { r.tr.remove(); rows.delete(id); }
  }
  let prev = null;
  for (const h of shown) {
    let r = rows.get(h.id);
    if (!r) {
      const tr = el('tr');
      tr.dataset.id = h.id;
      tr.addEventListener('click', () => { pinned = Number(tr.dataset.id); render(); });
      r = { tr, key: null };
      rows.set(h.id, r);
    }
    const sel = cur !== null && cur.id === h.id;
    const key = `${h.received_usec}|${h.quiet}|${h.priority}|${stateText(h)}|${sel}`;
    if (r.key !== key) { fillRow(r.tr, h, sel); r.key = key; }
    const want = prev ? prev.nextSibling : tb.firstChild;
    if (want !== r.tr) tb.insertBefore(r.tr, want);
    prev = r.tr;
  }
}

function clearList() {
  rows.clear();
  $('hit-list').textContent = '';
}

let lastHealth = null;
const HEALTH_STALE_MS = 30000;   /* capture reports every few seconds */

function renderHealth(hl) {
  const box = $('health');
  box.textContent = '';
  lastHealth = hl;
  if (!hl) return;
  for (const c of hl.cameras || []) {
    const stale = Date.now() - c.received_usec / 1000 > HEALTH_STALE_MS;
    const ok = c.state === 'ok' && !stale;
    box.appendChild(el('span', `${c.camera}: ${stale ? 'no report' : c.state}`, `chip${ok ? '' : ' bad'}`));
    const gps = c.gps || 'absent';
    box.appendChild(el('span', `GPS: ${gps}`, `chip${gps === 'fix' ? '' : ' warn'}`));
  }
  if (hl.control === false) box.appendChild(el('span', 'records: matchd down', 'chip bad'));
}

/* The stale-list banner (alertd asks matchd for the hot-list ages). */
function renderLists(l) {
  const box = $('stale');
  if (!l || !l.known) { box.hidden = true; $('storage').hidden = true; return; }
  const stale = l.stale || [];
  if (l.none) {
    box.textContent = 'No hot list loaded: no alert will come.  Verify plates through CLETS.';
  } else if (stale.length) {
    box.textContent = 'Hot list out of date: ' + stale.map((s) => `${s.source} ${s.age_hours} h old`).join(', ') +
      ` (limit ${l.max_age_hours} h).  A hit may no longer be valid; an entry may be missing.`;
  } else {
    box.textContent = '';
  }
  box.hidden = !l.none && !stale.length;
  /* matchd's storage (a full disk: reads kept without their images) */
  const st = $('storage');
  const failing = typeof l.storage === 'string' && l.storage !== 'ok' && l.storage !== 'unknown';
  st.textContent = failing ? `Storage ${l.storage}.  Alerts still work; tell fleet services.` : '';
  st.hidden = !failing;
}

function renderAudio() {
  $('mute').classList.toggle('on', audio.mute);
  $('mute').textContent = audio.mute ? 'Muted' : 'Mute';
  $('volume').value = audio.volume;
}

function render() {
  renderAlert();
  renderList();
}

async function step(id, to, disp) {
  const h = hits.get(id);
  const body = { to };
  if (disp === 'action') disp = $('action').value;
  if (disp) body.disposition = disp;
  if (disp && disp !== 'no-action') {
    const c = $('case').value.trim();
    if (!c) { $('step-error').textContent = 'Enter the case or CAD number first.'; $('case').focus(); return; }
    body.case = c;
  }
  $('step-error').textContent = '';
  const r = await post(`/api/hit/${id}/step`, body);
  if (!r.ok) { $('step-error').textContent = r.body.error || `refused (${r.status})`; return; }
  hits.set(r.body.id, r.body);
  if (h && FINAL.has(r.body.state) && pinned === id) pinned = null;
  render();
}

async function exportHit() {
  const h = current();
  if (!h) return;
  let c = $('case').value.trim();
  if (!c) c = (window.prompt('Case or CAD number for the report') || '').trim();
  if (!c) return;
  const r = await post(`/api/hit/${h.id}/export`, { case: c, reason: 'crime report' });
  if (!r.ok) { $('step-error').textContent = r.body.error || `export refused (${r.status})`; return; }
  /* The report's files (hit.json, hit.html, images, manifest), as matchd made them. */
  const files = r.body.files || [];
  if (!files.length) files.push({ name: 'hit.json', base64: btoa(JSON.stringify(r.body.result || {})) });
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
    const a = el('a');
    a.href = URL.createObjectURL(new Blob([bytes]));
    a.download = `alpr-hit-${h.id}-${f.name.replace(/[^A-Za-z0-9._-]/g, '-')}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
}

function applyNight() {
  const mode = localStorage.getItem('alpr-night') || 'auto';
  let night;
  if (mode === 'auto') {
    const hr = new Date().getHours();
    night = nightCfg.start > nightCfg.end ? (hr >= nightCfg.start || hr < nightCfg.end)
      : (hr >= nightCfg.start && hr < nightCfg.end);
  } else night = mode === 'night';
  document.body.classList.toggle('night', night);
  $('night').classList.toggle('on', mode !== 'auto');
  $('night').textContent = mode === 'auto' ? 'Night: auto' : (night ? 'Night' : 'Day');
}

function toggleNight() {
  const mode = localStorage.getItem('alpr-night') || 'auto';
  const next = { auto: 'night', night: 'day', day: 'auto' }[mode];
  localStorage.setItem('alpr-night', next);
  applyNight();
}

/*
 * Hits arriving in a burst are drawn once per frame: the event handler
 * only files them, so the page never falls behind the stream.  The probe
 * notes, for each hit, when its frame began (frame), when the page was
 * updated (ms) and when that frame had been painted (painted: a message
 * posted from the frame runs after its rendering steps).
 */
let frame = 0;
const drawnLater = [];

function scheduleRender() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    const t0 = now();
    frame = 0;
    render();
    const t = now();
    const done = drawnLater.splice(0);
    for (const l of done) { l.frame = t0 - l.cap; l.ms = t - l.cap; }
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      const tp = now();
      for (const l of done) l.painted = tp - l.cap;
    };
    ch.port2.postMessage(0);
  });
}

function onHit(ev) {
  const t = now();
  const h = JSON.parse(ev.data);
  hits.set(h.id, h);
  /* A new alert takes the screen from whatever the deputy was looking at. */
  if (!h.quiet) pinned = null;
  const r = h.read || {};
  if (r.capture_usec) {
    /* sse: the event reached the page; ms: the page has drawn it. */
    const l = { id: h.id, cap: r.capture_usec / 1000, sse: t - r.capture_usec / 1000, ms: null, painted: null };
    window.alprStats.latencies.push(l);
    drawnLater.push(l);
  }
  window.alprStats.rendered++;
  scheduleRender();
}

function connect() {
  if (es) es.close();
  es = new EventSource('/api/events');
  es.addEventListener('hit', onHit);
  es.addEventListener('update', (ev) => { const h = JSON.parse(ev.data); hits.set(h.id, h); scheduleRender(); });
  es.addEventListener('health', (ev) => renderHealth(JSON.parse(ev.data)));
  es.addEventListener('lists', (ev) => renderLists(JSON.parse(ev.data)));
  es.addEventListener('audio', (ev) => { audio = JSON.parse(ev.data); renderAudio(); });
  es.onopen = () => { window.alprStats.connected = true; };
  es.onerror = () => {
    window.alprStats.connected = false;
    /* The session may have ended (timeout, logout elsewhere): ask again. */
    setTimeout(() => load(false), 1500);
  };
}

async function load(reconnect = true) {
  const r = await fetch('/api/state', { credentials: 'same-origin' });
  const s = await r.json();
  csrf = s.csrf;
  nightCfg = s.night || nightCfg;
  applyNight();
  if (!s.user) {
    user = null;
    if (es) { es.close(); es = null; }
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-user').focus();
    return;
  }
  user = s.user;
  $('who').textContent = user;
  $('login').hidden = true;
  $('app').hidden = false;
  hits.clear();
  clearList();
  for (const h of s.hits || []) hits.set(h.id, h);
  if (s.audio) { audio = s.audio; renderAudio(); }
  renderHealth(s.health);
  renderLists(s.lists);
  render();
  if (reconnect || !es || es.readyState === EventSource.CLOSED) connect();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  const r = await post('/api/login', { user: $('login-user').value, password: $('login-password').value });
  $('login-password').value = '';
  if (!r.ok) { $('login-error').textContent = r.body.error || `refused (${r.status})`; return; }
  await load(true);
});
$('logout').addEventListener('click', async () => { await post('/api/logout'); await load(); });
$('mute').addEventListener('click', async () => { await post('/api/audio', { mute: !audio.mute }); });
$('volume').addEventListener('change', async () => { await post('/api/audio', { volume: Number($('volume').value) }); });
$('night').addEventListener('click', toggleNight);
$('silence').addEventListener('click', async () => { const h = current(); if (h) await post(`/api/hit/${h.id}/ack`); });
$('export').addEventListener('click', exportHit);

document.addEventListener('keydown', (e) => {
  if (!user || e.target.tagName === 'INPUT' && e.key !== 'Enter') return;
  const h = current();
  const k = e.key.toLowerCase();
  if ((k === '1' || k === '2') && h) {
    const b = $('steps').querySelectorAll('button')[Number(k) - 1];
    if (b) { e.preventDefault(); b.click(); }
  } else if (k === 'enter' && e.target === $('case') && h && h.state === 'CLETS_CONFIRMED') {
    e.preventDefault(); step(h.id, 'DISPOSED', 'action');
  } else if (k === 's' && h) { post(`/api/hit/${h.id}/ack`); }
  else if (k === 'm') { $('mute').click(); }
  else if (k === 'n') { toggleNight(); }
  else if (k === 'e') { exportHit(); }
  else if (k === 'arrowdown' || k === 'arrowup') {
    const ids = [...$('hit-list').querySelectorAll('tr')].map((tr) => Number(tr.dataset.id));
    if (!ids.length) return;
    const cur = h ? ids.indexOf(h.id) : -1;
    const next = ids[Math.min(Math.max(cur + (k === 'arrowdown' ? 1 : -1), 0), ids.length - 1)];
    pinned = next; render(); e.preventDefault();
  }
});

setInterval(() => {
  $('clock').textContent = new Date().toLocaleTimeString([], { hour12: false });
  applyNight();
  if (lastHealth) renderHealth(lastHealth);
}, 1000);
load();
