/*
 * Bench: hit-to-page latency over many hits, measured in headless
 * Chromium.  Hits are injected into alert.sock by tests/tools/alert-peer
 * (each stamped with its send time); the page notes when each SSE event
 * arrives and when the hit is drawn.  Started by tests/bench/alert-latency.sh
 * with the same environment as alert-page.js plus ALERT_HITS, ALERT_PID.
 */
'use strict';

const { launch } = require('./launch');
const { execFile } = require('child_process');
const http = require('http');
const fs = require('fs');
const path = require('path');

const OUT = process.env.ALERT_OUT;
const HITS = Number(process.env.ALERT_HITS || 1000);

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function rss(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((st.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [0, 0])[1]);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

(async () => {
  const { ctx, close } = await launch(OUT);
  try {
    const page = await ctx.newPage();
    await page.goto(process.env.ALERT_URL);
    await page.fill('#login-user', 'deputy1');
    await page.fill('#login-password', 'secret');
    await page.click('#login-button');
    await page.waitForFunction(() => window.alprStats.connected === true, null, { timeout: 10000 });
    /* A second reader of the stream with no browser: latency at the SSE push itself. */
    const cookie = (await ctx.cookies()).find((c) => c.name === 'alpr_session').value;
    const raw = [];
    const u = new URL(process.env.ALERT_URL);
    const req = http.get({ host: u.hostname, port: u.port, path: '/api/events',
      headers: { Cookie: `alpr_session=${cookie}` } }, (res) => {
      let buf = '';
      res.on('data', (d) => {
        const t = performance.timeOrigin + performance.now();
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m = ev.match(/^data: (.*)$/m);
          if (m && ev.startsWith('event: hit')) raw.push(t - JSON.parse(m[1]).read.capture_usec / 1000);
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    const before = rss(process.env.ALERT_PID);
    await new Promise((resolve, reject) => {
      execFile(process.env.ALERT_PEER, ['hits', process.env.ALERT_SOCK, '--first', '100000',
        '--count', String(HITS), '--plate', '7B#', '--priority', '2', '--interval-ms', process.env.ALERT_INTERVAL || '10',
        '--timeout', '120'], (err) => (err ? reject(err) : resolve()));
    });
    await page.waitForFunction((n) => window.alprStats.latencies.length >= n &&
      window.alprStats.latencies.every((l) => l.ms !== null && l.painted !== null), HITS, { timeout: 60000 });
    const lat = await page.evaluate(() => window.alprStats.latencies);
    req.destroy();
    const after = rss(process.env.ALERT_PID);
    const sse = lat.map((l) => l.sse);
    const every = process.env.ALERT_INTERVAL || 10;
    console.log(`alertd hit-to-page latency, ${raw.length} hits, 1 per ${every} ms, at the SSE push` +
      ` (raw stream reader): p50 ${pct(raw, 50).toFixed(1)} ms, p99 ${pct(raw, 99).toFixed(1)} ms`);
    console.log(`alertd hit-to-page latency, ${lat.length} hits, 1 per ${every} ms, SSE event in Chromium:` +
      ` p50 ${pct(sse, 50).toFixed(1)} ms, p99 ${pct(sse, 99).toFixed(1)} ms, max ${pct(sse, 100).toFixed(1)} ms`);
    const drawn = lat.map((l) => l.ms);
    const painted = lat.map((l) => l.painted);
    console.log(`alertd hit-to-page latency, ${lat.length} hits, 1 per ${every} ms, hit drawn on the page:` +
      ` p50 ${pct(drawn, 50).toFixed(1)} ms, p99 ${pct(drawn, 99).toFixed(1)} ms`);
    console.log(`alertd hit-to-page latency, ${lat.length} hits, 1 per ${every} ms, frame with the hit painted:` +
      ` p50 ${pct(painted, 50).toFixed(1)} ms, p99 ${pct(painted, 99).toFixed(1)} ms`);
    /* Where the time goes after the event reached the page. */
    const wait = lat.map((l) => l.frame - l.sse);
    const draw = lat.map((l) => l.ms - l.frame);
    const paint = lat.map((l) => l.painted - l.ms);
    console.log(`  of which: event to frame start p50 ${pct(wait, 50).toFixed(1)} / p99 ${pct(wait, 99).toFixed(1)} ms,` +
      ` page update p50 ${pct(draw, 50).toFixed(1)} / p99 ${pct(draw, 99).toFixed(1)} ms,` +
      ` style, layout and paint p50 ${pct(paint, 50).toFixed(1)} / p99 ${pct(paint, 99).toFixed(1)} ms`);
    console.log(`load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log(`alertd RSS: ${before.rss} KiB before, ${after.rss} KiB after ${lat.length} hits` +
      ` (peak ${after.hwm} KiB)`);
  } finally {
    await close();
  }
})().catch((e) => { console.error(`alert-bench: ${e.message}`); process.exit(1); });
