'use strict';
// "Freeze formulas to values" on formulas showing rows without an answer (invalid, failed,
// pending): only answers become values, never a sentence, and Enrich rows then counts
// those rows as still to do.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {parseA1} = require('../support/fake_spreadsheet');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;

before(async () => {
  // One attempt per lookup, so that a failing Pronto fails a row at once.
  stack = await startStack({rate: 250, functionEnv: {PRONTO_RETRY_ATTEMPTS: '1'}});
});

after(async () => {
  if (stack) await stack.stop();
});

const HEADER = ['First name', 'Last name', 'Company', 'LinkedIn', 'Email', 'Email status', 'Pronto status'];

/** Types a formula and calculates it now, as Sheets does when it is entered. */
function enter(gas, a1, formula) {
  gas.typeFormula('Leads', a1, formula);
  const {row, column} = parseA1(a1);
  return gas.recalculateCell(gas.sheet('Leads'), row, column);
}

test('Freeze on formulas showing invalid, failed and pending rows writes no sentence as a value, and the sidebar then counts those rows as to do', async () => {
  await stack.resetSimulator();
  const leads = people(10, 'frozen');
  const rows = leads.map((p) => [p.first, p.last, p.companyOrDomain, p.linkedin]);
  rows[4][1] = ''; // row 6: no last name
  rows[5] = rows[0].slice(); // row 7: the person of row 2 again
  rows.push([leads[9].first, leads[9].last, '', '']); // row 12: nothing to find them by
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
    waits: {FORMULA_TIMEOUT_S: 2}, // so that "longer than a formula waits" is 3 s, not 27
  });
  const sheet = gas.sheet('Leads');

  // Rows 2–6: answers, and a row missing its last name.
  assert.equal(enter(gas, 'E2', '=PRONTO_ENRICH(A2:A6, B2:B6, C2:C6, D2:D6, "email")').error, null);
  assert.equal(enter(gas, 'E12', '=PRONTO_EMAIL(A12, B12, C12, D12)').error,
      'Add a company name, a company website or a LinkedIn URL to this row.');
  // Rows 7–9 while Pronto fails: row 7 is answered from the cache, rows 8 and 9 fail.
  await stack.configureSimulator({fault_503: 1});
  assert.equal(enter(gas, 'E7', '=PRONTO_ENRICH(A7:A9, B7:B9, C7:C9, D7:D9, "email")').error, null);
  // Rows 10–11 while Pronto takes longer than a formula may wait: still searching.
  await stack.configureSimulator({fault_503: 0, latency_ms: 3000});
  assert.equal(enter(gas, 'E10', '=PRONTO_ENRICH(A10:A11, B10:B11, C10:C11, D10:D11, "email")').error, null);
  await stack.configureSimulator({latency_ms: 20});

  const shown = sheet.getRange('E2:G12').getValues();
  assert.match(shown[4][2], /^invalid: Add the last name to this row\.$/);
  assert.match(shown[6][1], /^failed: /);
  assert.match(shown[8][1], /^pending: Still searching/);
  assert.equal(shown[10][0], '#ERROR!');
  assert.deepEqual([4, 6, 7, 8, 9].map((i) => shown[i][0]), ['', '', '', '', ''], 'no sentence in an Email cell, even before Freeze');
  gas.select('Leads', 'E2:G12');

  const message = gas.call('freezeFormulasInSelection');

  assert.equal(message, 'Froze 4 Pronto formula(s) (31 cells) to values: they will not recalculate or spend credits again. ' +
      '10 cell(s) without an answer (missing details, still searching, failed…) were left empty: Enrich selected rows looks those rows up.');
  const frozen = sheet.getRange('E2:G12').getValues();
  assert.deepEqual(sheet.getRange('E2:G12').getFormulas().flat().filter(Boolean), [], 'no formula left');
  assert.ok(frozen.flat().every((value) => !/\s/.test(String(value))), `no sentence became a value: ${JSON.stringify(frozen)}`);
  const expected = simulatedOutcomes([0, 1, 2, 3].map((i) => leads[i].withLinkedIn));
  const answer = (o) => [o.email || '', o.email ? o.email_status : 'not_found', o.email ? 'success' : 'not_found'];
  assert.deepEqual(frozen, [
    ...expected.map(answer), ['', '', ''], answer(expected[0]), ['', '', ''], ['', '', ''], ['', '', ''], ['', '', ''], ['', '', ''],
  ]);

  const plan = gas.call('getSidebarPlan', {types: ['email']});

  assert.deepEqual(plan.choices.sheet.estimate, {rows: 11, toEnrich: 4, filled: 5, duplicates: 0, invalid: 2, needsLinkedin: 0, credits: 12},
      'rows 8–11 (failed, still searching) are to do again; rows 6 and 12 still lack details');
});
