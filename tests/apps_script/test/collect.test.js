'use strict';
// A sidebar run collects the rows Pronto was still searching before it says Done.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  if (stack) await stack.stop();
});

test('rows Pronto was still searching when a chunk ended are asked again (for free) before the run says Done', async () => {
  // Pronto takes longer than a chunk waits: 3 s against a wait shortened from 40 s to 2 s.
  await stack.configureSimulator({latency_ms: 3000});
  const leads = people(5, 'collect');
  const gas = new AppsScript({
    sheets: {Leads: [['First name', 'Last name', 'Company or website'], ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
    waits: {RUN_TIMEOUT_S: 2},
  });
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  const started = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 6, mapping: plan.mapping, types: ['email']});

  const afterChunk = gas.call('stepRun', started.id);

  assert.deepEqual([afterChunk.status, afterChunk.active, afterChunk.counts.pending], ['collecting', true, 5]);
  const pending = 'pending: Still searching: Pronto is taking a while. The answer is kept; look again in a minute at no cost.';
  assert.deepEqual(gas.sheet('Leads').getRange('D1:F1').getValues()[0], ['Email', 'Email status', 'Pronto status']);
  assert.deepEqual(gas.sheet('Leads').getRange('D2:F6').getValues(), Array(5).fill(['', pending, pending]),
      'the Email cells stay empty: the sentence is in the status cells');

  const collected = gas.call('stepRun', started.id);

  assert.deepEqual([collected.status, collected.active, collected.counts.pending, collected.message], ['done', false, 0, '']);
  const expected = simulatedOutcomes(leads.map((p) => p.contact));
  assert.deepEqual(gas.sheet('Leads').getRange('D2:D6').getValues().map((r) => r[0]), expected.map((o) => o.email || ''));
  const found = expected.filter((o) => o.email).length;
  assert.deepEqual([collected.counts.found, collected.counts.notFound], [found, 5 - found]);
  const stats = await stack.simulatorStats();
  assert.equal(stats.calls, 5, 'asking again cost nothing: Pronto saw each person once');
  assert.equal(gas.enrichRequests().length, 2);
});
