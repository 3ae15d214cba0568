'use strict';
// A 10,000-row sheet handed to the function's own fill (POST /fill): where done and to-do rows
// alternate, the run's saved state once held the list of queued rows ("2,4,6,…", 24 KB against
// PropertiesService's 9 KB per value). It now keeps their number and range only.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

const HEADER = ['First name', 'Last name', 'Company or website', 'Email', 'Email status', 'Pronto status'];
const QUEUED = 'pending: queued for the Pronto function';

let stack;

before(async () => {
  stack = await startStack({sheets: true, latencyMs: 0, rate: 1000});
});

after(async () => {
  if (stack) await stack.stop();
});

test('a 10,000-row run handed to the function, done and to-do rows alternating, completes with its saved state far under 9 KB', async (t) => {
  const leads = people(10000, 'fill');
  const rows = [HEADER, ...leads.map((p, i) => [p.first, p.last, p.companyOrDomain, i % 2 ? 'kept@example.com' : '',
    i % 2 ? 'valid' : '', i % 2 ? 'success' : ''])];
  // UrlFetchApp stops waiting after about a minute at Google; 2 s here, the fill going on after.
  const gas = new AppsScript({strict: true, fetchTimeoutMs: 2000, sheets: {Leads: rows},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});
  const sheet = gas.sheet('Leads');
  sheet.insertRowsAfter(sheet.getMaxRows(), 10001 - sheet.getMaxRows());
  sheet.maxColumns = HEADER.length;
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: rows}, true);
  gas.linkToEmulator(stack.sheetsUrl, stack.functionUrl);
  gas.select('Leads', 'A1');
  const plan = gas.call('getSidebarPlan', {types: ['email'], scope: 'sheet'});

  const started = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 10001, mapping: plan.mapping,
    types: ['email']});

  assert.deepEqual([started.mode, started.error, started.total], ['server', null, 5000]);
  const saved = gas.documentProperties.getProperty('PRONTO_RUN');
  assert.ok(Buffer.byteLength(saved) < 2048, `the saved run is ${Buffer.byteLength(saved)} bytes`);
  await waitFor(async () => {
    const cells = await stack.spreadsheetCells(gas.spreadsheet.getId(), 'Leads');
    return cells.rows.slice(1, 10001).every((row) => row[5] && row[5] !== QUEUED);
  }, {timeoutMs: 240000, intervalMs: 1000, what: 'the function to fill the 5,000 rows to do'});

  const view = gas.call('getRunView');

  assert.deepEqual([view.status, view.done, view.total], ['done', 5000, 5000]);
  const expected = simulatedOutcomes(leads.filter((p, i) => i % 2 === 0).map((p) => p.contact));
  assert.deepEqual([view.counts.found, view.counts.notFound],
      [expected.filter((o) => o.email).length, expected.filter((o) => !o.email).length], 'rows done before are not counted again');
  const emails = sheet.getRange('D2:D10001').getValues().map((row) => row[0]);
  assert.deepEqual(emails.filter((e, i) => i % 2 === 0), expected.map((o) => o.email || ''));
  assert.deepEqual(new Set(emails.filter((e, i) => i % 2 === 1)), new Set(['kept@example.com']));
  const largest = Math.max(...gas.documentProperties.getKeys().map((key) => Buffer.byteLength(gas.documentProperties.getProperty(key))));
  assert.ok(largest < 9 * 1024);
  t.diagnostic(`saved run at start: ${Buffer.byteLength(saved)} bytes; largest property at the end: ${largest} bytes`);
});
