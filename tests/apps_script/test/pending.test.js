'use strict';
// A formula facing a slow Pronto answers "searching…" inside the 30-second limit of custom functions.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {startStack} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  if (stack) await stack.stop();
});

test('with Pronto answering in 40 s, PRONTO_EMAIL shows the pending text instead of #ERROR', async (t) => {
  await stack.configureSimulator({latency_ms: 40000});
  const leads = people(3, 'slow');
  const gas = new AppsScript({
    sheets: {Leads: [['First name', 'Last name', 'Company'], ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]},
    scriptProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A4, B2:B4, C2:C4)');

  const outcomes = gas.recalculate('Leads');

  // The harness kills a custom function at 30 s, as Sheets does ("#ERROR! Exceeded maximum execution time").
  assert.deepEqual(outcomes.map((o) => [o.killed, o.error]), [[false, null]]);
  const pending = 'searching… recalculates later';
  assert.deepEqual(gas.sheet('Leads').getRange('E2:E4').getValues(), [[pending], [pending], [pending]]);
  assert.equal(gas.enrichRequests().length, 1);
  assert.equal(JSON.parse(gas.enrichRequests()[0].payload).timeout_s, 25);
  assert.equal(gas.enrichRequests()[0].status, 200);
  assert.equal(gas.documentCache.items.size, 0, 'pending answers are not cached: the next calculation asks again');
  t.diagnostic(`pending formula answered after ${outcomes[0].realMs} ms`);
});
