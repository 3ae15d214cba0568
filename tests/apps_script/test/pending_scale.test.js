'use strict';
// Pending formula cells fill at the sizes people use, under the strict fake (recalculation
// only on a changed formula or referenced cell, 30 formulas at a time, killed executions stay
// dead, daily quotas): a 300-row range formula plus 200 single-cell formulas, all answered
// "still searching", fill as a bound script within 2 minutes of Pronto's answers, and as an
// add-on within a minute with the sidebar open, at once on reopening, within the hour
// otherwise; a 1,000-row range formula fills too; Pronto is paid once per contact throughout.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

const HEADER = ['First name', 'Last name', 'Company or website'];
const RANGE_ROWS = 300;
const SINGLE_CELLS = 200;

let stack;

before(async () => {
  // Every slow lookup in flight at once, so that all end together, 3 s after being asked.
  stack = await startStack({rate: 1000, functionEnv: {PRONTO_MAX_IN_FLIGHT: '1200'}});
});

after(async () => {
  if (stack) await stack.stop();
});

/** The cells recorded as pending. */
function pendingCells(gas) {
  return gas.documentProperties.getKeys().filter((key) => key.startsWith('PRONTO_PENDING|'));
}

function columnE(gas, rows) {
  return gas.sheet('Leads').getRange(`E2:E${rows + 1}`).getValues().map((row) => row[0]);
}

/**
 * A spreadsheet of `count` people with a range formula over the first `rangeRows` and a
 * single-cell formula on each other row, all answered "still searching" (Pronto takes 3 s,
 * the formula waits 0.1 s: only the seconds change, not the code), then Pronto answering.
 * @return {Promise<{gas: AppsScript, expected: Array<string>, answeredAt: number, rows: number}>}
 */
async function allPending(tag, {addon = false, rangeRows = RANGE_ROWS, singleCells = SINGLE_CELLS} = {}) {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 3000, max_open: 1200, rate: 1000});
  const rows = rangeRows + singleCells;
  const leads = people(rows, tag);
  const gas = new AppsScript({
    addon, strict: true, waits: {FORMULA_TIMEOUT_S: 0.1},
    sheets: {Leads: [HEADER, ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]},
  });
  const sheet = gas.sheet('Leads');
  // A sheet holding 1,001 rows has room for them (the fake starts every sheet at 1,000).
  if (sheet.getMaxRows() < rows + 1) sheet.insertRowsAfter(sheet.getMaxRows(), rows + 1 - sheet.getMaxRows());
  if (addon) gas.install();
  gas.call('saveSettings', {url: stack.functionUrl, token: stack.token, tokenScope: 'shared'});
  gas.typeFormula('Leads', 'E2', `=PRONTO_EMAIL(A2:A${rangeRows + 1}, B2:B${rangeRows + 1}, C2:C${rangeRows + 1})`);
  for (let row = rangeRows + 2; row <= rows + 1; row++) gas.typeFormula('Leads', `E${row}`, `=PRONTO_EMAIL(A${row}, B${row}, C${row})`);

  const outcomes = gas.recalculate('Leads');

  assert.equal(outcomes.length, 1 + singleCells);
  assert.deepEqual(outcomes.filter((o) => o.killed), [], 'every formula returned inside 30 s');
  assert.equal(pendingCells(gas).length, 1 + singleCells, 'each formula recorded its cell');
  assert.deepEqual(new Set(columnE(gas, rows)), new Set(singleCells ? ['', '#ERROR!'] : ['']), 'nothing found yet');
  await waitFor(async () => (await stack.simulatorStats()).served === rows, {timeoutMs: 120000, what: `Pronto to answer the ${rows} lookups`});
  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  return {gas, expected, answeredAt: gas.clock.now(), rows};
}

/** Asserts Pronto was asked once per contact, whatever was recalculated meanwhile. */
async function assertPaidOnce(rows) {
  const stats = await stack.simulatorStats();
  assert.equal(stats.calls, rows, 'one Pronto call per contact');
  assert.deepEqual(new Set(Object.values(stats.by_contact)), new Set([1]));
}

test('bound script: a 300-row range formula and 200 single-cell formulas, all pending, fill within 2 minutes of Pronto answering', async (t) => {
  const {gas, expected, answeredAt, rows} = await allPending('bound');

  let filledAt = null;
  while (filledAt === null && gas.clock.now() - answeredAt <= 180000) {
    gas.advance(5000);
    if (JSON.stringify(columnE(gas, rows)) === JSON.stringify(expected)) filledAt = gas.clock.now();
  }

  assert.notEqual(filledAt, null, 'every cell shows its own person\'s answer');
  assert.ok(filledAt - answeredAt <= 120000, `filled ${Math.round((filledAt - answeredAt) / 1000)} s after Pronto answered`);
  assert.deepEqual(pendingCells(gas), []);
  await assertPaidOnce(rows);
  t.diagnostic(`filled ${Math.round((filledAt - answeredAt) / 1000)} s after Pronto answered`);
});

test('add-on with the sidebar open: the sidebar\'s poll fills every pending cell within a minute of Pronto answering', async (t) => {
  const {gas, expected, answeredAt, rows} = await allPending('sidebar', {addon: true});
  gas.call('showEnrichSidebar');
  const every = gas.global('SIDEBAR_POLL_MS');

  let filledAt = null;
  while (filledAt === null && gas.clock.now() - answeredAt <= 5 * 60000) {
    gas.advance(every);
    gas.call('pollPendingCells'); // what the open page asks every SIDEBAR_POLL_MS
    if (JSON.stringify(columnE(gas, rows)) === JSON.stringify(expected)) filledAt = gas.clock.now();
  }

  assert.notEqual(filledAt, null);
  assert.ok(filledAt - answeredAt <= 60000, `filled ${Math.round((filledAt - answeredAt) / 1000)} s after Pronto answered`);
  assert.deepEqual(gas.triggersOf(DEFAULT_USER).map((trigger) => trigger.spec.everyHours), [1], 'the add-on\'s timer is hourly');
  await assertPaidOnce(rows);
  t.diagnostic(`filled ${Math.round((filledAt - answeredAt) / 1000)} s after Pronto answered`);
});

test('add-on: reopening the spreadsheet fills every pending cell at once, without waiting for the hourly timer', async () => {
  const {gas, expected, rows} = await allPending('reopen', {addon: true});
  const before = gas.clock.now();

  const opened = gas.open('LIMITED');

  assert.equal(opened.error, null);
  assert.deepEqual(columnE(gas, rows), expected);
  assert.equal(gas.executions.filter((e) => e.kind === 'trigger').length, 0, 'no timer tick was involved');
  assert.ok(gas.clock.now() - before < 60000);
  await assertPaidOnce(rows);
});

test('add-on with nobody in the spreadsheet: the hourly timer fills every pending cell within 61 minutes, then removes itself', async (t) => {
  const {gas, expected, answeredAt, rows} = await allPending('hourly', {addon: true});

  let filledAt = null;
  while (filledAt === null && gas.clock.now() - answeredAt <= 65 * 60000) {
    gas.advance(60000);
    if (JSON.stringify(columnE(gas, rows)) === JSON.stringify(expected)) filledAt = gas.clock.now();
  }

  assert.notEqual(filledAt, null);
  assert.ok(filledAt - answeredAt <= 61 * 60000, `filled ${Math.round((filledAt - answeredAt) / 60000)} min after Pronto answered`);
  gas.advance(2 * 3600000);
  assert.deepEqual(gas.triggersOf(DEFAULT_USER), [], 'with nothing left to do the timer is gone');
  await assertPaidOnce(rows);
  t.diagnostic(`filled ${Math.round((filledAt - answeredAt) / 60000)} min after Pronto answered`);
});

test('a 1,000-row pending range formula fills, though the cache keeps fewer answers than that: the function\'s store answers the rest for free', async () => {
  const {gas, expected, answeredAt, rows} = await allPending('thousand', {rangeRows: 1000, singleCells: 0});

  while (JSON.stringify(columnE(gas, rows)) !== JSON.stringify(expected) && gas.clock.now() - answeredAt <= 180000) gas.advance(30000);

  assert.deepEqual(columnE(gas, rows), expected);
  assert.ok(gas.clock.now() - answeredAt <= 120000);
  assert.ok(gas.documentCache.items.size <= 1000, 'CacheService kept at most 1,000 items');
  await assertPaidOnce(rows);
});
