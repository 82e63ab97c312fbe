// End-to-end test of the interactive notebook flow, in headless Chromium against a running classic
// Jupyter Notebook (6.x) server with the GoNB kernel, as a user does it: open the notebook, Cell → Run All,
// change the k default in the cell tagged "parameters" and re-run it (Shift+Enter), re-run only the cell
// tagged "digit-grid", then File → Download as → HTML. Screenshots and the export go to --out.
//
// Started by scripts/notebooks/browser.sh (which starts and stops the server); by hand:
//   node flow.mjs --base http://127.0.0.1:PORT --token TOKEN --notebook notebooks/.browser-1.ipynb \
//     [--source notebooks/leverage_study.ipynb] [--out out/browser] [--chromium /usr/bin/chromium] \
//     [--run-timeout 1800] [--cell-timeout 600]      (seconds; --notebook is the path the server serves)
//
// Real mouse clicks and keys drive the notebook; the page's Jupyter.notebook JS API is used only to wait
// (kernel idle, execution counts) and to inspect (tags, outputs, where a number sits in the editor).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const args = parseArgs(process.argv.slice(2), {
  base: '', token: '', notebook: '', source: '', out: 'out/browser', name: '',
  chromium: process.env.CHROMIUM || '/usr/bin/chromium', 'run-timeout': '1800', 'cell-timeout': '600',
});
for (const need of ['base', 'token', 'notebook']) {
  if (!args[need]) die(`flow.mjs: --${need} is required`);
}
const base = args.base.replace(/\/$/, '');
const out = args.out;
const name = args.name || path.basename(args.source || args.notebook, '.ipynb');
const source = args.source || args.notebook; // the notebook the user named, for messages
const runTimeout = Number(args['run-timeout']) * 1000;
const cellTimeout = Number(args['cell-timeout']) * 1000;
fs.mkdirSync(out, { recursive: true });

// The flags Chromium needs here: no sandbox as root, no GPU, and nothing that phones Google (no internet).
// Playwright gives every launch a fresh temporary --user-data-dir.
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const timings = [];
let current = '';
async function step(title, fn) {
  current = title;
  const t0 = performance.now();
  log(`▶ ${title}`);
  const result = await fn();
  const s = (performance.now() - t0) / 1000;
  timings.push({ step: title, seconds: Number(s.toFixed(2)) });
  log(`  ✓ ${title}: ${s.toFixed(1)} s`);
  return result;
}

let browser;
let page;
const pageErrors = [];
try {
  await main();
} catch (e) {
  console.error(`\nbrowser test FAILED in step "${current}": ${e.message}`);
  if (pageErrors.length) console.error(`page errors:\n  ${pageErrors.slice(-10).join('\n  ')}`);
  process.exitCode = 1;
  if (page) {
    await fullScreenshot(page, path.join(out, 'failure.png'))
      .catch(() => page.screenshot({ path: path.join(out, 'failure.png') })).catch(() => {});
    console.error(`what the browser showed: ${path.join(out, 'failure.png')}`);
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(process.exitCode || 0);

async function main() {
  browser = await step('launch Chromium', () => chromium.launch({
    executablePath: args.chromium, headless: true, args: chromiumArgs, timeout: 60_000,
  }));
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  // Hermetic: the server and local files only (the notebook page and nbconvert's HTML ask CDNs for MathJax etc.).
  const host = new URL(base).host;
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    const local = u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'file:' || u.host === host;
    return local ? route.continue() : route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));

  // 1. Open the notebook as a user does: its URL with the token; wait for the kernel.
  await step('open notebook, kernel ready', async () => {
    const url = `${base}/notebooks/${encodePath(args.notebook)}?token=${args.token}`;
    const resp = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    if (!resp || !resp.ok()) throw new Error(`GET ${url.replace(args.token, '…')}: HTTP ${resp && resp.status()}`);
    await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded,
      null, { timeout: 60_000, polling: 200 });
    await page.waitForFunction(() => {
      const k = Jupyter.notebook.kernel;
      return k && k.is_connected() && document.querySelector('#kernel_indicator_icon.kernel_idle_icon');
    }, null, { timeout: 120_000, polling: 200 }).catch(() => {
      throw new Error('the kernel did not start or connect within 120 s (see out/browser/jupyter.log)');
    });
  });

  // The contract: a code cell tagged "parameters" with flag.Int("k", N, …), one tagged "digit-grid".
  const nb = await step('check the notebook contract', async () => {
    const info = await page.evaluate(() => Jupyter.notebook.get_cells().map((c, i) => ({
      i, type: c.cell_type, tags: (c.metadata && c.metadata.tags) || [], text: c.get_text(),
    })));
    const tagged = (tag) => info.filter((c) => c.type === 'code' && c.tags.includes(tag));
    const params = tagged('parameters');
    const grid = tagged('digit-grid');
    if (params.length !== 1 || grid.length !== 1) {
      throw new Error(`${source} needs exactly one code cell tagged "parameters" and one tagged ` +
        `"digit-grid" (found ${params.length} and ${grid.length})`);
    }
    const m = params[0].text.match(/flag\.Int\("k",\s*(\d+)/);
    if (!m) throw new Error(`the parameters cell (#${params[0].i}) has no flag.Int("k", N, …)`);
    const oldK = Number(m[1]);
    const newK = oldK === 100 ? 200 : 100;
    log(`  parameters: cell #${params[0].i}, k = ${oldK} (will become ${newK}); digit-grid: cell #${grid[0].i}; ` +
      `${info.filter((c) => c.type === 'code').length} code cells`);
    return { params: params[0].i, grid: grid[0].i, oldK, newK };
  });

  // 2. Cell → Run All, with the mouse; wait until nothing runs and the kernel is idle.
  await step('run all (Cell → Run All)', async () => {
    await page.click('#celllink');
    await page.click('#run_all_cells > a');
    await page.waitForFunction(() => Jupyter.notebook.get_cells().some(
      (c) => c.cell_type === 'code' && (c.element.hasClass('running') || typeof c.input_prompt_number === 'number')),
    null, { timeout: 30_000, polling: 100 }).catch(() => { throw new Error('Run All started no cell'); });
    await waitIdle(page, runTimeout, 'Run All');
  });
  const missing = await page.evaluate(() => Jupyter.notebook.get_cells()
    .map((c, i) => (c.cell_type === 'code' && typeof c.input_prompt_number !== 'number' ? i : -1)).filter((i) => i >= 0));
  await checkNoErrors(page, 'after Run All');
  if (missing.length) throw new Error(`after Run All, code cells ${missing.join(', ')} have no execution count`);
  await step('screenshot 01-run-all.png', () => fullScreenshot(page, path.join(out, '01-run-all.png')));

  const before = await step('record the digit-grid output', async () => {
    const snap = await snapshot(page);
    const g = await gridOutput(page, nb.grid);
    log(`  digit-grid cell: "k = ${g.k}", ${g.images.length} images, first ${g.images[0].w}×${g.images[0].h} px`);
    if (g.k !== nb.oldK) throw new Error(`the digit-grid cell says k = ${g.k}, the parameters cell's default is ${nb.oldK}`);
    return { snap, g };
  });

  // 3. Edit the k default as a user: double-click the number in the editor, type the new one, Shift+Enter.
  await step(`edit k ${nb.oldK} → ${nb.newK} and run the parameters cell (Shift+Enter)`, async () => {
    await page.evaluate(({ i }) => Jupyter.notebook.get_cell(i).element[0].scrollIntoView({ block: 'start' }), { i: nb.params });
    // Where the number sits on screen (scrolling div#site until its line shows, the cell may be tall).
    const locate = () => page.evaluate(({ i }) => {
      const cm = Jupyter.notebook.get_cell(i).code_mirror;
      for (let line = 0; line < cm.lineCount(); line++) {
        const m = cm.getLine(line).match(/(flag\.Int\("k",\s*)(\d+)/);
        if (m) {
          const ch = m.index + m[1].length;
          const a = cm.charCoords({ line, ch }, 'window');
          const b = cm.charCoords({ line, ch: ch + m[2].length }, 'window');
          return { line, ch, len: m[2].length, x: (a.left + b.left) / 2, y: (a.top + a.bottom) / 2, xEnd: b.left };
        }
      }
      return null;
    }, { i: nb.params });
    let where = await locate();
    if (where && !(await onScreen(page, where.y))) {
      await page.evaluate((dy) => { document.querySelector('#site').scrollTop += dy; }, where.y - 450);
      where = await locate();
    }
    if (!where) throw new Error('the k flag line is not in the parameters cell editor');
    await page.mouse.dblclick(where.x, where.y);
    const selected = await page.evaluate(({ i }) => Jupyter.notebook.get_cell(i).code_mirror.getSelection(), { i: nb.params });
    if (selected === String(nb.oldK)) {
      log(`  double-clicked ${nb.oldK} on line ${where.line + 1} of the cell; typing ${nb.newK}`);
    } else {
      // A double-click that did not select the number: click after it and delete it instead.
      log(`  the double-click selected ${JSON.stringify(selected)}; clicking after ${nb.oldK} and deleting it`);
      await page.mouse.click(where.xEnd, where.y);
      for (let j = 0; j < where.len; j++) await page.keyboard.press('Backspace');
    }
    await page.keyboard.type(String(nb.newK), { delay: 30 });
    const text = await page.evaluate(({ i }) => Jupyter.notebook.get_cell(i).get_text(), { i: nb.params });
    const m = text.match(/flag\.Int\("k",\s*(\d+)/);
    if (!m || Number(m[1]) !== nb.newK) throw new Error(`after typing, the k line reads ${m ? m[0] : '(gone)'}`);
    await runCellWithShiftEnter(page, nb.params, before.snap[nb.params].count);
  });

  const rerun = await step('re-run only the digit-grid cell (click, Shift+Enter)', async () => {
    await page.evaluate(({ i }) => Jupyter.notebook.get_cell(i).element[0].scrollIntoView({ block: 'start' }), { i: nb.grid });
    const box = await (await cellElement(page, nb.grid)).$('.input_area').then((e) => e.boundingBox());
    const [x, y] = [box.x + box.width / 3, box.y + Math.min(box.height / 2, 10)];
    if (!(await onScreen(page, y))) throw new Error(`the digit-grid cell's editor is off screen (y = ${y})`);
    await page.mouse.click(x, y);
    const sel = await page.evaluate(() => Jupyter.notebook.get_selected_index());
    if (sel !== nb.grid) throw new Error(`clicking the digit-grid cell selected cell #${sel}, not #${nb.grid}`);
    const t0 = performance.now();
    await runCellWithShiftEnter(page, nb.grid, before.snap[nb.grid].count);
    return { seconds: (performance.now() - t0) / 1000 };
  });

  await step('check the re-run', async () => {
    await checkNoErrors(page, 'after the re-run');
    const g = await gridOutput(page, nb.grid);
    log(`  digit-grid cell: "k = ${g.k}", ${g.images.length} images, first ${g.images[0].w}×${g.images[0].h} px`);
    if (g.k !== nb.newK) throw new Error(`the digit-grid cell says k = ${g.k} after the re-run, want ${nb.newK}`);
    const [a, b] = [before.g.images[0], g.images[0]];
    if (a.w === b.w && a.h === b.h) throw new Error(`the first grid image is still ${b.w}×${b.h} px after k ${nb.oldK} → ${nb.newK}`);
    const snap = await snapshot(page);
    const changed = [];
    for (const [i, c] of Object.entries(snap)) {
      if (Number(i) === nb.params || Number(i) === nb.grid) continue;
      const o = before.snap[i];
      if (c.count !== o.count || c.outputs !== o.outputs) changed.push(`#${i} (In [${o.count}] → In [${c.count}])`);
    }
    if (changed.length) throw new Error(`cells other than parameters and digit-grid changed: ${changed.join(', ')}`);
    log(`  the ${Object.keys(snap).length - 2} other code cells kept their execution counts and outputs`);
  });
  await step('screenshot 02-rerun-grid.png', async () => {
    await fullScreenshot(page, path.join(out, '02-rerun-grid.png'));
    // Notebook 6 puts long outputs in a scroll box; for the cell's own shot, expand it as a user does
    // (a click left of the output).
    const cell = await cellElement(page, nb.grid);
    if (await cell.$('.output_scroll')) {
      await cell.$('.out_prompt_overlay').then((e) => e.click());
      await page.waitForFunction((el) => !el.querySelector('.output_scroll'), cell, { timeout: 5000 });
    }
    await elementScreenshot(page, cell, path.join(out, '02-grid-cell.png'));
  });

  // 4. File → Download as → HTML (the classic UI saves the notebook, then opens /nbconvert/html/…?download=true
  // in a new window, whose response is the download).
  const htmlPath = path.join(out, `${name}.html`);
  const how = await step('export HTML (File → Download as → HTML)', async () => {
    const download = new Promise((resolve) => {
      page.on('download', resolve);
      context.on('page', (p) => p.on('download', resolve));
    });
    await page.click('#filelink');
    await page.hover('#download_menu >> xpath=..');
    await page.click('#download_html > a');
    let timer;
    const d = await Promise.race([download, new Promise((r) => { timer = setTimeout(() => r(null), 60_000); })]);
    clearTimeout(timer);
    if (d) {
      await d.saveAs(htmlPath);
      log(`  downloaded ${d.suggestedFilename()}`);
      return 'File → Download as → HTML (a browser download)';
    }
    // Fallback: the same nbconvert endpoint, asked directly, after File → Save and Checkpoint.
    log('  no download within 60 s; saving and asking /nbconvert/html directly');
    await page.click('#filelink');
    await page.click('#save_checkpoint > a');
    await page.waitForFunction(() => !Jupyter.notebook.dirty, null, { timeout: 30_000 });
    const r = await page.request.get(`${base}/nbconvert/html/${encodePath(args.notebook)}?download=true&token=${args.token}`);
    if (!r.ok()) throw new Error(`nbconvert endpoint: HTTP ${r.status()}`);
    fs.writeFileSync(htmlPath, await r.body());
    return 'the server\'s /nbconvert/html endpoint (the UI\'s download did not arrive)';
  });
  await step('check the export, screenshot 03-export.png', async () => {
    const html = fs.readFileSync(htmlPath, 'utf8');
    if (!html.includes(`k = ${nb.newK}`)) throw new Error(`${htmlPath} lacks "k = ${nb.newK}"`);
    const imgs = (html.match(/<img [^>]*src="data:image\/png;base64,/g) || []).length;
    if (imgs < 1) throw new Error(`${htmlPath} has no embedded PNG image`);
    if (/panic:|exit status \d/.test(html)) throw new Error(`${htmlPath} shows a panic or exit status`);
    log(`  ${htmlPath}: ${(html.length / 1024).toFixed(0)} KiB, "k = ${nb.newK}", ${imgs} embedded PNG images; via ${how}`);
    const view = await context.newPage();
    await view.goto('file://' + path.resolve(htmlPath), { waitUntil: 'load', timeout: 60_000 });
    // Debian's nbconvert points MathJax at a local copy: let it finish (its "Loading…" box) before the shot.
    await view.waitForFunction(() => {
      const m = document.querySelector('#MathJax_Message');
      return !m || getComputedStyle(m).display === 'none' || !m.textContent;
    }, null, { timeout: 15_000, polling: 200 }).catch(() => log('  (MathJax still loading after 15 s)'));
    await view.screenshot({ path: path.join(out, '03-export.png'), fullPage: true });
    await view.close();
  });

  const get = (prefix) => timings.find((t) => t.step.startsWith(prefix)).seconds;
  const summary = {
    notebook: source, kernel_start_s: get('open notebook'), run_all_s: get('run all'),
    rerun_parameters_s: get('edit k'), rerun_grid_s: Number(rerun.seconds.toFixed(2)),
    k: [nb.oldK, nb.newK], export: how, steps: timings,
  };
  fs.writeFileSync(path.join(out, 'timings.json'), JSON.stringify(summary, null, 1) + '\n');
  log(`\nbrowser test passed: ${source}`);
  log(`  open + kernel ready  ${summary.kernel_start_s.toFixed(1)} s`);
  log(`  run all              ${summary.run_all_s.toFixed(1)} s`);
  log(`  edit + re-run params ${summary.rerun_parameters_s.toFixed(1)} s`);
  log(`  re-run digit-grid    ${summary.rerun_grid_s.toFixed(1)} s (target ≤ 5 s: ${summary.rerun_grid_s <= 5 ? 'met' : 'NOT met'}; measured, not asserted)`);
  log(`  export               ${how}`);
}

// Waits until no cell runs (none queued: Notebook 6 marks queued and running cells alike) and the kernel
// indicator says idle, for 1 s in a row.
async function waitIdle(page, timeout, what) {
  const t0 = Date.now();
  let since = 0;
  for (;;) {
    const idle = await page.evaluate(() => !document.querySelector('.cell.running') &&
      !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));
    if (idle) {
      since = since || Date.now();
      if (Date.now() - since >= 1000) return;
    } else since = 0;
    if (Date.now() - t0 > timeout) throw new Error(`${what}: cells still running after ${timeout / 1000} s`);
    await sleep(200);
  }
}

// Shift+Enter on the selected cell; waits for its new execution count, then for the kernel to be idle.
async function runCellWithShiftEnter(page, i, oldCount) {
  await page.keyboard.press('Shift+Enter');
  await page.waitForFunction(({ i, oldCount }) => {
    const c = Jupyter.notebook.get_cell(i);
    return typeof c.input_prompt_number === 'number' && c.input_prompt_number !== oldCount && !c.element.hasClass('running');
  }, { i, oldCount }, { timeout: cellTimeout, polling: 100 }).catch(() => {
    throw new Error(`cell #${i} got no new execution count within ${cellTimeout / 1000} s of Shift+Enter`);
  });
  await waitIdle(page, cellTimeout, `cell #${i}`);
}

// Every code cell's execution count and outputs (nbformat JSON), by cell index.
async function snapshot(page) {
  return page.evaluate(() => {
    const s = {};
    Jupyter.notebook.get_cells().forEach((c, i) => {
      if (c.cell_type === 'code') s[i] = { count: c.input_prompt_number, outputs: JSON.stringify(c.output_area.outputs) };
    });
    return s;
  });
}

// The digit-grid cell's "k = N" and the natural sizes of its images (once loaded).
async function gridOutput(page, i) {
  await page.waitForFunction(({ i }) => [...Jupyter.notebook.get_cell(i).element[0].querySelectorAll('.output_area img')]
    .every((im) => im.complete), { i }, { timeout: 30_000 });
  const g = await page.evaluate(({ i }) => {
    const c = Jupyter.notebook.get_cell(i);
    const text = c.element[0].querySelector('.output_wrapper').innerText;
    const imgs = [...c.element[0].querySelectorAll('.output_area img')];
    return { text, images: imgs.map((im) => ({ w: im.naturalWidth, h: im.naturalHeight })) };
  }, { i });
  const m = g.text.match(/k = (\d+)/);
  if (!m) throw new Error(`the digit-grid cell's output has no "k = N": ${JSON.stringify(g.text.slice(0, 300))}`);
  if (!g.images.length || !g.images[0].w) throw new Error('the digit-grid cell shows no (loaded) image');
  return { k: Number(m[1]), images: g.images };
}

// Fails on any error output (.output_error, an "error" output) or text with "panic:" or "exit status".
async function checkNoErrors(page, when) {
  const bad = await page.evaluate(() => {
    const found = [];
    Jupyter.notebook.get_cells().forEach((c, i) => {
      if (c.cell_type !== 'code') return;
      const el = c.element[0];
      const text = el.querySelector('.output_wrapper') ? el.querySelector('.output_wrapper').innerText : '';
      const err = el.querySelector('.output_error');
      if (err || c.output_area.outputs.some((o) => o.output_type === 'error')) {
        found.push(`#${i}: error output: ${text.trim().slice(0, 1200)}`);
      } else if (/panic:|exit status/.test(text)) {
        found.push(`#${i}: ${text.slice(Math.max(0, text.search(/panic:|exit status/) - 300)).trim().slice(0, 1200)}`);
      }
    });
    return found;
  });
  if (bad.length) throw new Error(`${when}, cells show errors:\n  ${bad.join('\n  ')}`);
}

// A screenshot of the whole notebook. Notebook 6 scrolls inside div#site, sized to the window, so a
// Playwright fullPage shot would show only the first screen: make the window as tall as the notebook.
async function fullScreenshot(page, file) {
  await withTallWindow(page, () => page.screenshot({ path: file }));
}

// One element (a cell) of any height: the same tall window, so all of it is laid out on screen.
async function elementScreenshot(page, element, file) {
  await withTallWindow(page, () => element.screenshot({ path: file }));
}

async function withTallWindow(page, fn) {
  const vp = page.viewportSize();
  const h = await page.evaluate(() => document.querySelector('#header').offsetHeight +
    document.querySelector('#notebook').scrollHeight + 20);
  await page.setViewportSize({ width: vp.width, height: Math.min(Math.max(h, vp.height), 16000) });
  await sleep(500); // Notebook 6 resizes div#site on the window's resize event
  await page.evaluate(() => { document.querySelector('#site').scrollTop = 0; });
  try {
    await fn();
  } finally {
    await page.setViewportSize(vp);
    await sleep(300);
  }
}

// Whether a window y coordinate lies in the notebook's visible area (below the fixed header).
async function onScreen(page, y) {
  return page.evaluate((y) => y > document.querySelector('#site').getBoundingClientRect().top + 5 &&
    y < window.innerHeight - 5, y);
}

async function cellElement(page, i) {
  return (await page.evaluateHandle((i) => Jupyter.notebook.get_cell(i).element[0], i)).asElement();
}
function encodePath(p) { return p.split('/').map(encodeURIComponent).join('/'); }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
function log(s) { console.log(s); }
function die(s) { console.error(s); process.exit(2); }
function parseArgs(argv, defaults) {
  const a = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = argv[i].match(/^--([\w-]+)(?:=(.*))?$/);
    if (!m || !(m[1] in defaults)) die(`flow.mjs: unknown argument ${argv[i]}`);
    a[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  return a;
}
