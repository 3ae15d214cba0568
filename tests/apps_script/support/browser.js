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
const {chromium} = require('playwright-core');

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
 * @return {Promise<{page: import('playwright-core').Page, calls: Array<{name: string, ms: number}>}>}
 */
async function openShownPage(browser, gas, showFunction, viewport = {width: 300, height: 760}) {
  gas.call(showFunction);
  const shown = gas.spreadsheet.ui.shown[gas.spreadsheet.ui.shown.length - 1];
  const page = await browser.newPage({viewport});
  const calls = [];
  await page.exposeFunction('__gasRun', (name, argsJson) => {
    const started = Date.now();
    const result = gas.execute('script', name, JSON.parse(argsJson));
    calls.push({name, ms: Date.now() - started, error: result.error});
    if (result.error) return {ok: false, message: result.error};
    return {ok: true, value: result.value === undefined ? null : result.value};
  });
  // Nothing outside 127.0.0.1 may be fetched by the page.
  await page.route(/^(?!http:\/\/127\.0\.0\.1)(https?:)/, (route) => route.abort());
  // Apps Script serves the page with its client API already in it; so does this.
  const html = shown.html.getContent().replace(/<head>/i, `<head><script>${GOOGLE_SCRIPT_RUN}</script>`);
  assert(html.includes('__gasRun'), 'the page has a <head> to put google.script.run in');
  assert(!html.includes('<?'), `${showFunction} shows its evaluated template, with no scriptlet left`);
  await page.setContent(html);
  return {page, calls};
}

module.exports = {launchChromium, openShownPage};
