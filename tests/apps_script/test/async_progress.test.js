'use strict';
// A sidebar run the function fills on Pronto's async lane (PRONTO_PUBLIC_URL set): the
// sidebar says how many rows were sent to Pronto, found, not found and still waiting, and
// who writes the waiting ones. The sync lane's display is left as it was.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack({rate: 250, sheets: true, asyncLane: true});
  // Answers settle at once and come back by webhook: the fill answers within UrlFetchApp's wait.
  await stack.configureSimulator({async_latency_ms: 0, webhook_lost: 0, webhook_duplicated: 0});
});

after(async () => {
  if (stack) await stack.stop();
});

const HEADER = ['First name', 'Last name', 'Company Website', 'LinkedIn URL', 'Email'];

function sheetWith(rows) {
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
  gas.sheet('Leads').maxColumns = HEADER.length;
  return gas;
}

/** The sidebar's page functions that print a run (Sidebar.html's script), run on a view. */
function sidebarLine(gas, view) {
  const html = gas.call('include_', 'Sidebar');
  const words = gas.call('countWords_');
  const script = html.match(/function countsLine\(counts, lane\) \{[\s\S]*?\n {2}\}/);
  assert.ok(script, 'Sidebar.html prints the counts with countsLine(counts, lane)');
  const formatCount = (n) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const countsLine = new Function('COUNT_WORDS', 'formatCount', `${script[0]}; return countsLine;`)(words, formatCount);
  return countsLine(view.counts, view.lane);
}

test('a sidebar run the function fills on the async lane shows rows sent to Pronto, found, not found and waiting', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({async_latency_ms: 0, webhook_lost: 0, webhook_duplicated: 0});
  const rows = people(12, 'async-side').map((p) => [p.first, p.last, p.companyOrDomain, '', '']);
  const gas = sheetWith(rows);
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);
  gas.linkToEmulator(stack.sheetsUrl, stack.functionUrl);
  gas.select('Leads', 'A2:E13');
  const plan = gas.call('getSidebarPlan', {types: ['email']});

  const view = gas.call('startRun', {sheetName: 'Leads', scope: 'selection', firstRow: 2, lastRow: 13,
    mapping: plan.mapping, types: ['email']});

  const expected = simulatedOutcomes(rows.map(([firstname, lastname, domain]) => ({firstname, lastname, domain})));
  const found = expected.filter((o) => o.email).length;
  assert.deepEqual([view.mode, view.status, view.lane, view.error], ['server', 'done', 'async', null]);
  assert.deepEqual([view.counts.submitted, view.counts.found, view.counts.notFound, view.counts.waiting],
      [12, found, 12 - found, 0]);
  assert.equal(sidebarLine(gas, view),
      `12 sent to Pronto · ${found} found · ${12 - found} not found · 0 waiting for Pronto`);
  const emails = gas.sheet('Leads').getRange('E2:E13').getValues().map((r) => r[0]);
  assert.deepEqual(emails, expected.map((o) => o.email || ''), 'the answers reached the sheet');
});

test('a fill that leaves rows waiting for Pronto says how many and that the next run writes them unpaid', () => {
  // The function's fill waits for every answer up to its own deadline (50 min), so no real
  // sidebar run sees rows left waiting: this reads the summary such a fill answers.
  const gas = sheetWith([]);
  const outcome = gas.call('fillOutcome_', {lane: 'async', submitted: 30, found: 10, not_found: 8,
    waiting: 12, remaining: 0, credits: 10, notices: {}});

  assert.deepEqual([outcome.lane, outcome.counts.submitted, outcome.counts.waiting], ['async', 30, 12]);
  assert.equal(gas.call('waitingSentence_', outcome.counts.waiting),
      '12 rows are waiting for Pronto; the next run writes them without paying again (Enrich these ' +
      'rows again, or the scheduled refresh).');
  assert.equal(sidebarLine(gas, {counts: outcome.counts, lane: outcome.lane}),
      '30 sent to Pronto · 10 found · 8 not found · 12 waiting for Pronto');
});

test('a fill on the sync lane shows found and not found as before, without sent or waiting', () => {
  const gas = sheetWith([]);
  const outcome = gas.call('fillOutcome_', {found: 3, not_found: 2, remaining: 0, credits: 3, notices: {}});

  assert.equal(outcome.lane, 'sync');
  assert.equal(sidebarLine(gas, {counts: outcome.counts, lane: outcome.lane}), '3 found · 2 not found');
});
