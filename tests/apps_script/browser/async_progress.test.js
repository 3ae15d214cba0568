'use strict';
// The sidebar in headless Chromium when the function fills on Pronto's async lane: what a
// person reads once the run is done (rows sent to Pronto, found, not found, waiting). The
// state is saved to docs/ and checked with axe-core.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {launchChromium, openShownPage, snapshot} = require('../support/browser');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

const HEADER = ['First name', 'Last name', 'Company Website', 'LinkedIn URL', 'Email'];

let stack;
let browser;

before(async () => {
  [stack, browser] = await Promise.all([
    startStack({rate: 250, sheets: true, asyncLane: true}),
    launchChromium(),
  ]);
  // Answers settle at once and come back by webhook: the fill answers within UrlFetchApp's wait.
  await stack.configureSimulator({async_latency_ms: 0, webhook_lost: 0, webhook_duplicated: 0});
});

after(async () => {
  await Promise.all([stack && stack.stop(), browser && browser.close()]);
});

test('after a run on the async lane the sidebar reads "sent to Pronto", found, not found and "waiting for Pronto"', async () => {
  const rows = people(8, 'async-browser').map((p) => [p.first, p.last, p.companyOrDomain, '', '']);
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
  gas.sheet('Leads').maxColumns = HEADER.length;
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);
  gas.linkToEmulator(stack.sheetsUrl, stack.functionUrl);
  gas.select('Leads', 'A2:E9');
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => !document.getElementById('start').disabled);

  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'), null,
      {timeout: 60000});

  const expected = simulatedOutcomes(rows.map(([firstname, lastname, domain]) => ({firstname, lastname, domain})));
  const found = expected.filter((o) => o.email).length;
  const summary = (await page.textContent('#summary')).trim();
  assert.ok(summary.startsWith(`Done: 8 rows. 8 sent to Pronto · ${found} found · ${8 - found} not found · ` +
      '0 waiting for Pronto.'), summary);
  await snapshot(page, 'sidebar-async-done');
  await page.close();
});
