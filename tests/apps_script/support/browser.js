'use strict';
/**
 * Opens an HtmlService page (the sidebar or a dialog) in Debian's headless
 * Chromium, with google.script.run wired to the same vm context the Node tests
 * use: each call runs the named server function as a google.script.run
 * execution and comes back to its success or failure handler, asynchronously,
 * with the result serialised as Apps Script does.
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {chromium} = require('playwright-core');
const {REPO} = require('./servers');

const ADDON_CSS_URL = 'https://ssl.gstatic.com/docs/script/css/add-ons1.css';
const ADDON_CSS_STAND_IN = path.join(__dirname, '..', 'browser', 'add-ons1.css');
const AXE = require.resolve('axe-core/axe.min.js');
// The README's screenshots are refreshed only on request (PRONTO_SCREENSHOTS=docs), so a
// test run leaves the checkout as it found it; otherwise they go to a temporary folder.
const DOCS = process.env.PRONTO_SCREENSHOTS === 'docs' ?
  path.join(REPO, 'docs') :
  fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'pronto-screens-'));

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What google.script.run looks like inside the page. */
const GOOGLE_SCRIPT_RUN = `
  (() => {
    function runner(success, failure, userObject) {
      return new Proxy({}, {
        get(target, name) {
          if (name === 'withSuccessHandler') return (fn) => runner(fn, failure, userObject);
          if (name === 'withFailureHandler') return (fn) => runner(success, fn, userObject);
          if (name === 'withUserObject') return (object) => runner(success, failure, object);
          return (...args) => {
            window.__gasRun(String(name), JSON.stringify(args)).then((answer) => {
              if (answer.ok) {
                if (success) success(answer.value === null ? undefined : answer.value, userObject);
              } else if (failure) {
                failure(new Error(answer.message), userObject);
              }
            });
          };
        },
      });
    }
    window.google = {script: {run: runner(null, null, undefined), host: {close() { window.__closed = true; }}}};
  })();
`;

async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS});
}

/**
 * Shows the page the script itself shows (e.g. showEnrichSidebar), in a page of
 * the sidebar's width, bridged to `gas`.
 * @param {import('playwright-core').Browser} browser
 * @param {import('./apps_script').AppsScript} gas
 * @param {string} showFunction The menu function that shows the page.
 * @param {?{width: number, height: number}} [viewport] Default: the sidebar's 300 px, or the dialog's size.
 * @param {string} [user] Who has the spreadsheet open.
 * @return {Promise<{page: import('playwright-core').Page, calls: Array<{name: string, ms: number}>, hold: function(string): {reached: Promise<void>, release: function(): void}}>}
 */
async function openShownPage(browser, gas, showFunction, viewport = null, user = gas.user) {
  gas.callAs(user, showFunction);
  const shown = gas.spreadsheet.ui.shown[gas.spreadsheet.ui.shown.length - 1];
  // A sidebar is 300 px wide; a dialog has the size its script gave it.
  const size = viewport || (shown.kind === 'sidebar' ? {width: 300, height: 900} :
    {width: shown.html.getWidth(), height: shown.html.getHeight()});
  const page = await browser.newPage({viewport: size});
  const calls = [];
  const gates = new Map();
  await page.exposeFunction('__gasRun', async (name, argsJson) => {
    const gate = gates.get(name);
    if (gate) {
      // The test holds this call: the page waits as it would for a slow server call.
      gates.delete(name);
      gate.reach();
      await gate.released;
    }
    const started = Date.now();
    const result = gas.execute('script', name, JSON.parse(argsJson), {user});
    calls.push({name, ms: Date.now() - started, error: result.error});
    if (result.error) return {ok: false, message: result.error};
    return {ok: true, value: result.value === undefined ? null : result.value};
  });
  // Nothing outside 127.0.0.1 may be fetched by the page: Google's add-on style sheet,
  // which the pages link, is answered with a local stand-in (see add-ons1.css), and
  // anything else is refused.
  await page.route(/^(?!http:\/\/127\.0\.0\.1)(https?:)/, (route) => (route.request().url() === ADDON_CSS_URL ?
    route.fulfill({status: 200, contentType: 'text/css', body: fs.readFileSync(ADDON_CSS_STAND_IN, 'utf8')}) : route.abort()));
  // Apps Script serves the page with its client API already in it; so does this.
  const html = shown.html.getContent().replace(/<head>/i, `<head><script>${GOOGLE_SCRIPT_RUN}</script>`);
  assert(html.includes('__gasRun'), 'the page has a <head> to put google.script.run in');
  assert(!html.includes('<?'), `${showFunction} shows its evaluated template, with no scriptlet left`);
  await page.setContent(html);
  /**
   * Holds the page's next call to the server function `name` until release():
   * `reached` resolves once the page made it (the page is then waiting for its answer).
   */
  const hold = (name) => {
    let reach;
    let release;
    const reached = new Promise((resolve) => { reach = resolve; });
    const released = new Promise((resolve) => { release = resolve; });
    gates.set(name, {reach, released});
    return {reached, release};
  };
  return {page, calls, hold};
}

/**
 * Runs axe-core in the page and returns its serious and critical violations,
 * each as "rule-id: target…" (an empty list is a pass).
 * @param {import('playwright-core').Page} page
 * @return {Promise<Array<string>>}
 */
async function seriousViolations(page) {
  await page.addScriptTag({path: AXE});
  // Runs in the page, where axe and document are globals.
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(globalThis.document, {resultTypes: ['violations']});
    return result.violations.map((v) => ({id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' '))}));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/**
 * Saves the page as <name>.png (in docs/ with PRONTO_SCREENSHOTS=docs: the README shows
 * these) and checks it with axe-core.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function snapshot(page, name) {
  fs.mkdirSync(DOCS, {recursive: true});
  await page.screenshot({path: path.join(DOCS, `${name}.png`), fullPage: true});
  assert.deepEqual(await seriousViolations(page), [], `${name}: no serious or critical accessibility violation`);
}

module.exports = {launchChromium, openShownPage, seriousViolations, snapshot};
