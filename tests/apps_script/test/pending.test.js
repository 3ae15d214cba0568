'use strict';
// Formula cells Pronto had not answered yet fill themselves: recorded by the formula (its cell
// only), checked by the Pronto timer, and recalculated the documented way (the formula's
// refresh argument changes), on the harness clock (nothing waits a minute), under the strict
// fake (recalculation only on a changed formula or referenced cell). While they wait, a
// range's cells are empty and a single cell shows the sentence as its error: never a
// sentence as a value.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

const STILL_SEARCHING = 'Still searching: Pronto is taking a while. The answer is kept; look again in a minute at no cost.';
const PENDING_STATUS = `pending: ${STILL_SEARCHING}`;
const HEADER = ['First name', 'Last name', 'Company or website'];

let stack;

before(async () => {
  // Pronto may hold 250 lookups at once here, so that 200 slow ones all end together.
  stack = await startStack({rate: 500, functionEnv: {PRONTO_MAX_IN_FLIGHT: '250'}});
});

after(async () => {
  if (stack) await stack.stop();
});

/** A spreadsheet of `leads` where the person saved the settings (which starts the Pronto timer). */
function setUp(leads, options = {}) {
  const gas = new AppsScript({sheets: {Leads: [HEADER, ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]}, strict: true, ...options});
  gas.call('saveSettings', {url: stack.functionUrl, token: stack.token, tokenScope: 'shared'});
  return gas;
}

/** The cells recorded as pending (Document Properties PRONTO_PENDING|<sheet id>!<A1>). */
function pendingCells(gas) {
  return gas.documentProperties.getKeys().filter((key) => key.startsWith('PRONTO_PENDING|')).map((key) => key.split('!')[1]);
}

function column(gas, a1) {
  return gas.sheet('Leads').getRange(a1).getValues().map((row) => row[0]);
}

test('200 formula cells answered pending, Pronto answering late: every cell shows its answer within 2 minutes with no action, and Pronto is paid once per contact', async (t) => {
  await stack.resetSimulator();
  // Pronto takes longer than a formula waits: 3 s a lookup against a wait shortened from
  // the real 25 s to 2 s (only the seconds change; the formula's code is the same).
  await stack.configureSimulator({latency_ms: 3000, max_open: 250, rate: 500});
  const leads = people(200, 'late');
  const gas = setUp(leads, {waits: {FORMULA_TIMEOUT_S: 2}});
  const timers = gas.triggersOf(DEFAULT_USER);
  assert.deepEqual(timers.map((trigger) => [trigger.spec.functionName, trigger.spec.everyMinutes]), [['onProntoTimer', 1]]);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A201, B2:B201, C2:C201)');
  const entered = gas.clock.now();

  const [outcome] = gas.recalculate('Leads');

  assert.deepEqual([outcome.error, outcome.killed], [null, false], 'the formula answered inside 30 s');
  assert.deepEqual(new Set(column(gas, 'E2:E201')), new Set(['']), 'no sentence in a data cell while Pronto searches');
  assert.deepEqual(JSON.parse(gas.enrichRequests()[0].payload).timeout_s, 2);
  assert.deepEqual(pendingCells(gas), ['E2'], 'the cell is recorded, not its 200 contacts');
  assert.ok(gas.documentProperties.getProperty(`PRONTO_PENDING|${gas.sheet('Leads').getSheetId()}!E2`).length < 20);
  // Pronto answers after the formula stopped waiting (real time: the simulator is a real server).
  await waitFor(async () => (await stack.simulatorStats()).served === 200, {timeoutMs: 60000, what: 'Pronto to answer the 200 lookups'});

  // Nobody touches anything: only the clock moves, and the timer's ticks fall due.
  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  let filledAt = null;
  while (filledAt === null && gas.clock.now() - entered <= 180000) {
    gas.advance(5000);
    if (JSON.stringify(column(gas, 'E2:E201')) === JSON.stringify(expected)) filledAt = gas.clock.now();
  }

  assert.notEqual(filledAt, null, 'the cells filled themselves, each with its own person\'s answer');
  assert.ok(filledAt - entered <= 120000, `filled ${Math.round((filledAt - entered) / 1000)} s after the formula was entered`);
  const stats = await stack.simulatorStats();
  assert.equal(stats.served, 200);
  assert.equal(stats.calls, 200, 'Pronto was asked once per contact');
  assert.deepEqual(new Set(Object.values(stats.by_contact)), new Set([1]));
  const recalculations = gas.executions.filter((e) => e.kind === 'custom');
  assert.equal(recalculations.length, 2, 'the formula ran twice: typed, then entered again by the timer');
  const last = recalculations[1];
  assert.equal(gas.fetches.filter((f) => f.execution === last.id).length, 0, 'its second run was answered from the cache');
  assert.deepEqual(pendingCells(gas), [], 'nothing is left recorded');
  assert.equal(gas.sheet('Leads').getRange('E2').getFormula(), '=PRONTO_EMAIL(A2:A201, B2:B201, C2:C201, , "refresh 1")',
      'recalculated by a change of its refresh argument, which Google documents');

  // With nothing pending, later ticks stay cheap (no call), and an hour after the settings
  // were saved the timer removes itself.
  const fetchesBefore = gas.fetches.length;
  const ticks = gas.advance(60 * 60000);
  assert.deepEqual(new Set(ticks.map((tick) => tick.value)), new Set(['idle', 'removed']));
  assert.equal(gas.fetches.length, fetchesBefore);
  assert.deepEqual(gas.triggersOf(DEFAULT_USER), [], 'no timer is left with nothing to do');
  t.diagnostic(`filled ${Math.round((filledAt - entered) / 1000)} s after entry; ${gas.enrichRequests().length} /enrich calls`);
});

/** Records `cell` as a formula still waiting, as the formula itself does. */
function recordPending(gas, a1) {
  const {row, column: col} = require('../support/fake_spreadsheet').parseA1(a1);
  return gas.execute('custom', 'notePendingCell_', [true], {callingCell: {sheet: gas.sheet('Leads'), row, column: col}});
}

test('200 single-cell formulas recorded as pending are each entered again once Pronto answered, and answer from the cache', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 20});
  const leads = people(200, 'cells');
  const gas = setUp(leads);
  leads.forEach((lead, i) => {
    gas.typeFormula('Leads', `E${i + 2}`, `=PRONTO_EMAIL(A${i + 2}, B${i + 2}, C${i + 2})`);
    gas.sheet('Leads').put(i + 2, 5, {v: '#ERROR!', error: STILL_SEARCHING, f: `=PRONTO_EMAIL(A${i + 2}, B${i + 2}, C${i + 2})`});
    assert.equal(recordPending(gas, `E${i + 2}`).error, null);
  });
  assert.equal(pendingCells(gas).length, 200, 'each cell is recorded under its own key: no list for formulas to race on');

  // Each tick checks the contacts still waiting (one /enrich call) and enters the ready cells again.
  for (let tick = 0; tick < 5 && column(gas, 'E2:E201').includes('#ERROR!'); tick++) gas.advance(60000);

  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  assert.deepEqual(column(gas, 'E2:E201'), expected);
  const formulaRuns = new Set(gas.executions.filter((e) => e.kind === 'custom' && e.functionName === 'PRONTO_EMAIL').map((e) => e.id));
  assert.equal(formulaRuns.size, 200, 'each formula ran once more');
  assert.equal(gas.fetches.filter((f) => formulaRuns.has(f.execution)).length, 0, 'and answered from the cache');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.served, stats.calls], [200, 200], 'Pronto was asked once per contact');
  assert.deepEqual(pendingCells(gas), []);
});

test('a recorded cell whose formula was edited meanwhile is forgotten, not overwritten', async () => {
  await stack.resetSimulator();
  const leads = people(2, 'edited');
  const gas = setUp(leads);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');
  recordPending(gas, 'E2');
  gas.typeFormula('Leads', 'E2', '=UPPER(A2)');

  gas.advance(60000);

  assert.equal(gas.sheet('Leads').getRange('E2').getFormula(), '=UPPER(A2)');
  assert.equal(gas.enrichRequests().length, 0, 'nothing was asked for a cell that no longer waits');
  assert.deepEqual(pendingCells(gas), []);
});

test('as an add-on the timer ticks hourly (Google allows no more): pending cells fill within the hour, not the minute', async () => {
  await stack.resetSimulator();
  const leads = people(3, 'addon');
  const gas = new AppsScript({addon: true, strict: true, sheets: {Leads: [HEADER, ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]}});
  gas.install();
  gas.call('saveSettings', {url: stack.functionUrl, token: stack.token, tokenScope: 'shared'});
  assert.deepEqual(gas.triggersOf(DEFAULT_USER).map((trigger) => [trigger.spec.everyMinutes, trigger.spec.everyHours]), [[null, 1]]);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');
  gas.sheet('Leads').put(2, 5, {v: '#ERROR!', error: STILL_SEARCHING, f: '=PRONTO_EMAIL(A2, B2, C2)'});
  recordPending(gas, 'E2');

  gas.advance(30 * 60000);
  assert.equal(gas.sheet('Leads').value('E2'), '#ERROR!', 'no tick yet after 30 minutes');
  gas.advance(31 * 60000);

  const [expected] = simulatedOutcomes([leads[0].contact]);
  assert.equal(gas.sheet('Leads').value('E2'), expected.email || '');
});

test('Refresh pending cells (menu) fills what is ready now, and also finds formulas still waiting that were not recorded', async () => {
  await stack.resetSimulator();
  const leads = people(3, 'menu-refresh');
  const gas = setUp(leads);
  const enrich = '=PRONTO_ENRICH(A2:A4, B2:B4, C2:C4, , "email")';
  gas.typeFormula('Leads', 'E2', enrich);
  gas.typeFormula('Leads', 'I2', '=PRONTO_EMAIL(A3, B3, C3)');
  // What a sheet shows after CacheService dropped the records: PRONTO_ENRICH's statuses
  // say pending, and the single cell shows its "Still searching" error.
  [2, 3, 4].forEach((row) => {
    gas.sheet('Leads').put(row, 5, row === 2 ? {v: '', f: enrich, spill: {rows: 3, columns: 3}} : {v: ''});
    gas.sheet('Leads').put(row, 6, {v: PENDING_STATUS});
    gas.sheet('Leads').put(row, 7, {v: PENDING_STATUS});
  });
  gas.sheet('Leads').put(2, 9, {v: '#ERROR!', error: STILL_SEARCHING, f: '=PRONTO_EMAIL(A3, B3, C3)'});
  gas.select('Leads', 'A1');

  const message = gas.call('refreshPendingCellsNow');

  assert.equal(message, 'Refreshed 2 formula cell(s) whose answers are in.');
  const expected = simulatedOutcomes(leads.map((p) => p.contact));
  assert.deepEqual(gas.sheet('Leads').getRange('E2:G4').getValues(), expected.map((o) => [o.email || '',
    o.email ? o.email_status : 'not_found', o.email ? 'success' : 'not_found: No email or phone found for this profile.']));
  assert.equal(gas.sheet('Leads').value('I2'), expected[1].email || '');
  assert.deepEqual(gas.spreadsheet.toasts.map((toast) => toast.message), [message]);
});
