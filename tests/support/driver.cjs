// Drive a JupyterLite site in headless Chromium (npm playwright-core + Debian's chromium):
// open a notebook, run its first cell, wait for the expected text in its output, take a
// screenshot, and report every request the browser made (pages, workers, service worker).
//
//   node driver.cjs '<json options>'   -> one JSON line on stdout
// options: url (the notebook's page), expect (text the output must contain), screenshot,
//          timeoutMs, executablePath, userDataDir, allowedHosts (default ["127.0.0.1"])
'use strict';
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const allowed = new Set(opts.allowedHosts || ['127.0.0.1']);
  const timeout = opts.timeoutMs || 180000;
  const t0 = Date.now();
  const requests = [];
  const offsite = [];
  const consoleLines = [];
  const pageErrors = [];
  const record = (req, origin) => {
    const url = req.url();
    const entry = { url, method: req.method(), type: req.resourceType(), origin, t: Date.now() - t0,
                    status: null, bytes: 0, failed: null };
    requests.push(entry);
    let host = '';
    try { host = new URL(url).hostname; } catch (e) { host = ''; }
    if (!(url.startsWith('data:') || url.startsWith('blob:') || allowed.has(host))) offsite.push(url);
    return entry;
  };
  const byReq = new Map();
  const context = await chromium.launchPersistentContext(opts.userDataDir, {
    executablePath: opts.executablePath || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    serviceWorkers: opts.serviceWorkers || 'allow',
  });
  const onRequest = (origin) => (req) => { byReq.set(req, record(req, origin)); };
  const onFinished = async (req) => {
    const e = byReq.get(req);
    if (!e) return;
    try {
      const resp = await req.response();
      e.status = resp ? resp.status() : null;
      const s = await req.sizes();
      e.bytes = s.responseBodySize + s.responseHeadersSize;
      e.tEnd = Date.now() - t0;
      const enc = resp ? (await resp.allHeaders())['content-encoding'] : undefined;
      if (enc) e.encoding = enc;
    } catch (err) { /* the context may be closing */ }
  };
  const onFailed = (req) => { const e = byReq.get(req); if (e) e.failed = (req.failure() || {}).errorText || 'failed'; };
  // context-level events see the page, its dedicated workers and service workers
  context.on('request', onRequest('context'));
  context.on('requestfinished', onFinished);
  context.on('requestfailed', onFailed);
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`.slice(0, 500)));
  page.on('pageerror', (err) => pageErrors.push(String(err).slice(0, 500)));
  // the kernel's worker marks its start-up steps with console lines `forge-lite: <step>` (forge.lite's loader)
  const marks = [];
  page.on('worker', (w) => w.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('forge-lite: ')) marks.push({ step: text.slice(12), t: Date.now() - t0 });
    consoleLines.push(`worker ${m.type()}: ${text}`.slice(0, 500));
  }));

  const result = { ok: false, output: '', timings: {}, error: null };
  try {
    await page.goto(opts.url, { waitUntil: 'load', timeout });
    result.timings.load_ms = Date.now() - t0;
    const cell = page.locator('.jp-Notebook .jp-Cell').first();
    await cell.waitFor({ state: 'visible', timeout });
    result.timings.notebook_ms = Date.now() - t0;
    // run the first cell: click into its editor, then Shift+Enter. A key press that lands
    // before the editor is live is lost: retry until the prompt shows [*] or a number.
    const prompt = cell.locator('.jp-InputPrompt').first();
    let tRun = Date.now();
    result.attempts = 0;
    for (;;) {
      await cell.locator('.jp-InputArea-editor').click();
      if (result.attempts === 0) tRun = Date.now();
      await page.keyboard.press('Shift+Enter');
      result.attempts += 1;
      const started = await page.waitForFunction(
        (el) => /\[(\*|\d+)\]/.test(el.textContent || ''), await prompt.elementHandle(),
        { timeout: 5000, polling: 100 }).then(() => true, () => false);
      if (started || result.attempts >= 5) break;
    }
    const out = cell.locator('.jp-OutputArea-output');
    await page.waitForFunction(
      ([expect]) => {
        const c = document.querySelector('.jp-Notebook .jp-Cell');
        const t = c && c.querySelector('.jp-OutputArea') ? c.querySelector('.jp-OutputArea').innerText : '';
        return t.includes(expect) || t.includes('Traceback') || t.includes('Error');
      },
      [opts.expect], { timeout, polling: 250 });
    result.timings.first_cell_ms = Date.now() - tRun;
    result.timings.run_ms = tRun - t0;
    result.timings.total_ms = Date.now() - t0;
    result.output = (await out.allInnerTexts()).join('\n');
    result.ok = result.output.includes(opts.expect);
    // images the cell displayed (a figure's image/png output): type, decoded size, bytes
    result.images = await cell.locator('.jp-OutputArea-output img').evaluateAll((imgs) => imgs.map((i) => ({
      type: (i.src.match(/^data:([^;,]+)/) || [null, i.src.slice(0, 40)])[1], width: i.naturalWidth,
      height: i.naturalHeight, bytes: i.src.startsWith('data:') ? Math.floor(i.src.split(',')[1].length * 3 / 4) : 0 })));
    // let the prompt number settle for the screenshot
    await page.waitForTimeout(300);
  } catch (err) {
    result.error = String(err).slice(0, 2000);
    try { result.output = (await page.locator('.jp-OutputArea-output').allInnerTexts()).join('\n'); } catch (e) { /* */ }
  }
  if (opts.screenshot) {
    try { await page.screenshot({ path: opts.screenshot, fullPage: false }); result.screenshot = opts.screenshot; } catch (e) { /* */ }
  }
  await context.close();
  await new Promise((r) => setTimeout(r, 50));
  result.requests = requests;
  result.offsite = offsite;
  result.marks = marks;
  result.console = consoleLines.slice(-200);
  result.pageErrors = pageErrors;
  result.bytes = requests.reduce((a, r) => a + (r.bytes || 0), 0);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.stack || err), requests: [], offsite: [] }) + '\n');
  process.exit(1);
});
