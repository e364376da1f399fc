/*
 * make demo-screenshot: the MDC page during the demo, in headless Chromium
 * (Debian's /usr/bin/chromium driven by playwright-core from
 * tests/browser).  Logs in as the demo user, waits until an alert is on the
 * page with its plate crop loaded, and saves the page as SHOT_OUT (PNG).
 * Started by tools/demo/screenshot.sh with SHOT_URL, SHOT_USER,
 * SHOT_PASSWORD, SHOT_OUT.
 */
'use strict';

const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'alpr-shot-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let rc = 0;
  try {
    const page = await ctx.newPage();
    await page.goto(process.env.SHOT_URL);
    await page.evaluate(() => { localStorage.setItem('alpr-night', 'day'); });
    await page.fill('#login-user', process.env.SHOT_USER);
    await page.fill('#login-password', process.env.SHOT_PASSWORD);
    await page.click('#login-button');
    await page.waitForSelector('#app:not([hidden])', { timeout: 30000 });
    /* An alert on the page, its plate crop loaded. */
    await page.waitForFunction(() => {
      const p = document.getElementById('plate');
      const i = document.getElementById('crop');
      return p && p.textContent.trim() !== '' && i && i.complete && i.naturalWidth > 0;
    }, null, { timeout: 240000, polling: 500 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: process.env.SHOT_OUT });
    console.log(`screenshot: ${process.env.SHOT_OUT}`);
  } catch (e) {
    console.error(`screenshot: ${e.message}`);
    rc = 1;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(rc);
})();
