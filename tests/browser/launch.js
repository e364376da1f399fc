/*
 * Debian's headless Chromium for the page tests, with a fresh profile each
 * run (playwright passes it as --user-data-dir) and nothing that phones
 * out.  launch(dir) gives { ctx, close }; close() removes the profile.
 * run(dir, body) runs body(ctx, ok) in it and prints TAP: ok(cond, what,
 * extra) is one check; a crash is a failed check; the count goes to
 * dir/tap-count for the shell scenario, which adds its own checks and
 * prints the plan; the exit status says whether all passed.
 */
'use strict';

const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

async function launch(dir, viewport = { width: 1280, height: 900 }) {
  const profile = fs.mkdtempSync(path.join(dir, 'chromium-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function run(dir, body) {
  let n = 0;
  let failed = 0;
  const ok = (cond, what, extra) => {
    n++;
    if (!cond) failed++;
    console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}${extra ? ' # ' + extra : ''}`);
  };
  const { ctx, close } = await launch(dir);
  try {
    await body(ctx, ok);
  } catch (e) {
    ok(false, `browser test crashed: ${e.message.split('\n')[0]}`);
  } finally {
    await close();
  }
  fs.writeFileSync(path.join(dir, 'tap-count'), String(n));
  process.exit(failed ? 1 : 0);
}

module.exports = { launch, run };
