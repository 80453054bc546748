// Open one page in headless Chromium (npm playwright-core + Debian's chromium), wait until
// an element's text matches, take a screenshot, and report the text and every request.
//   node page_driver.cjs '<json options>'   -> one JSON line on stdout
// options: url, selector, expect (a regular expression the element's text must match),
//          screenshot, timeoutMs, executablePath, userDataDir, allowedHosts, fullPage
'use strict';
const { chromium } = require('playwright-core');

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const allowed = new Set(opts.allowedHosts || ['127.0.0.1']);
  const timeout = opts.timeoutMs || 120000;
  const t0 = Date.now();
  const requests = [];
  const offsite = [];
  const context = await chromium.launchPersistentContext(opts.userDataDir, {
    executablePath: opts.executablePath || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: { width: 1280, height: 900 },
  });
  context.on('request', (req) => {
    const url = req.url();
    requests.push({ url, t: Date.now() - t0 });
    let host = '';
    try { host = new URL(url).hostname; } catch (e) { host = ''; }
    if (!(url.startsWith('data:') || url.startsWith('blob:') || allowed.has(host))) offsite.push(url);
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 500)));
  page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err}`.slice(0, 500)));
  const result = { ok: false, text: '', error: null };
  try {
    await page.goto(opts.url, { waitUntil: 'load', timeout });
    const re = new RegExp(opts.expect);
    await page.waitForFunction(([sel, src]) => {
      const el = document.querySelector(sel);
      return el && new RegExp(src).test(el.innerText || el.textContent || '');
    }, [opts.selector, opts.expect], { timeout, polling: 250 });
    result.text = await page.locator(opts.selector).first().innerText();
    result.ok = re.test(result.text);
    result.ms = Date.now() - t0;
  } catch (err) {
    result.error = String(err).slice(0, 2000);
    try { result.text = await page.locator(opts.selector).first().innerText({ timeout: 1000 }); } catch (e) { /* */ }
  }
  if (opts.screenshot) {
    try { await page.screenshot({ path: opts.screenshot, fullPage: !!opts.fullPage }); result.screenshot = opts.screenshot; } catch (e) { /* */ }
  }
  await context.close();
  result.requests = requests;
  result.offsite = offsite;
  result.console = consoleLines.slice(-100);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.stack || err), requests: [], offsite: [] }) + '\n');
  process.exit(1);
});
