'use strict';
// The add-in inside Google's documented limits, under the strict fake (support/limits.js):
// a formula returns well inside 30 s whatever holds the locks; a user of 25 spreadsheets never
// holds more than 20 triggers and every pending cell still fills; a 10,000-row sidebar run
// fits its properties; two editors, a formula and a schedule tick at once lose no cell and
// pay no contact twice; trigger time is counted per person, idle ticks included.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {FakeGoogle} = require('../support/fake_google');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

const HEADER = ['First name', 'Last name', 'Company or website'];
const ANN = 'ann@example.com';
const BOB = 'bob@example.com';

let stack;

before(async () => {
  stack = await startStack({rate: 1000, functionEnv: {PRONTO_MAX_IN_FLIGHT: '1200'}});
});

after(async () => {
  if (stack) await stack.stop();
});

function rowsOf(leads) {
  return [HEADER, ...leads.map((p) => [p.first, p.last, p.companyOrDomain])];
}

function settings() {
  return {url: stack.functionUrl, token: stack.token, tokenScope: 'shared'};
}

/** Every Document Property's size in bytes, largest first. */
function propertySizes(gas) {
  return gas.documentProperties.getKeys().map((key) => [key, Buffer.byteLength(gas.documentProperties.getProperty(key))])
      .sort((a, b) => b[1] - a[1]);
}

test('a person using the add-on in 25 spreadsheets never holds more than 20 triggers, is told why when refused, and every pending cell still fills', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 3000, max_open: 1200, rate: 1000});
  const google = new FakeGoogle({addon: true});
  const most = () => google.triggers.ofUser(ANN).length;
  let peak = 0;
  const spreadsheets = Array.from({length: 25}, (unused, i) => {
    const leads = people(4, `many${i}`);
    const gas = new AppsScript({google, spreadsheetId: `sheet-${i}`, user: ANN, strict: true, waits: {FORMULA_TIMEOUT_S: 0.1},
      sheets: {Leads: rowsOf(leads)}});
    gas.call('saveSettings', settings());
    gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A5, B2:B5, C2:C5)');
    gas.recalculate('Leads');
    gas.call('showEnrichSidebar');
    const poll = gas.call('pollPendingCells'); // what the page asks as it opens
    peak = Math.max(peak, most());
    return {gas, leads, poll};
  });

  assert.equal(peak, 20);
  assert.deepEqual(spreadsheets.slice(0, 20).map((s) => s.poll.problem), Array(20).fill(''));
  spreadsheets.slice(20).forEach(({poll}) => assert.match(poll.problem,
      /^Google allows a person 20 Pronto timers, and yours are busy in other spreadsheets: a timer frees up once their pending cells are filled\. Meanwhile pending cells fill while the Pronto sidebar is open and each time the spreadsheet is opened/));
  await waitFor(async () => (await stack.simulatorStats()).served === 100, {timeoutMs: 60000, what: 'Pronto to answer'});

  // Nobody is in the spreadsheets: the 20 timers fill theirs, then remove themselves.
  for (let hour = 0; hour < 3; hour++) {
    google.advance(3600000);
    peak = Math.max(peak, most());
  }
  assert.equal(most(), 0, 'every timer removed itself once its cells were filled');
  // The five without a timer fill when the person opens them again.
  spreadsheets.slice(20).forEach(({gas}) => gas.open('LIMITED'));

  spreadsheets.forEach(({gas, leads}, i) => {
    const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => [o.email || '']);
    assert.deepEqual(gas.sheet('Leads').getRange('E2:E5').getValues(), expected, `spreadsheet ${i + 1}`);
  });
  assert.equal(peak, 20, 'never more than 20 triggers');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.calls, new Set(Object.values(stats.by_contact)).size], [100, 1], 'each contact paid once');
  await stack.configureSimulator({latency_ms: 20});
});

test('a 10,000-row sidebar run where done and to-do rows alternate completes with every property under 9 KB and no cache error', async (t) => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 0, rate: 1000});
  const leads = people(10000, 'big');
  const rows = [[...HEADER, 'Email', 'Email status'], ...leads.map((p, i) => [p.first, p.last, p.companyOrDomain,
    i % 2 ? 'kept@example.com' : '', i % 2 ? 'valid' : ''])];
  const gas = new AppsScript({strict: true, sheets: {Leads: rows}});
  gas.sheet('Leads').insertRowsAfter(gas.sheet('Leads').getMaxRows(), 10001 - gas.sheet('Leads').getMaxRows());
  gas.call('saveSettings', settings());
  gas.select('Leads', 'A1');
  const plan = gas.call('getSidebarPlan', {types: ['email'], scope: 'sheet'});
  assert.equal(plan.choices.sheet.estimate.toEnrich, 5000);

  let view = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 10001, mapping: plan.mapping, types: ['email']});
  let largest = 0;
  for (let guard = 0; view.active && guard < 1000; guard++) {
    view = gas.call('stepRun', view.id);
    largest = Math.max(largest, propertySizes(gas)[0][1]);
  }

  assert.deepEqual([view.status, view.error], ['done', null]);
  assert.deepEqual([view.done, view.total], [10000, 10000]);
  assert.equal(view.counts.found + view.counts.notFound, 5000);
  assert.equal(view.counts.filled, 5000);
  assert.ok(largest < 9 * 1024, `largest property ${largest} bytes`);
  const emails = gas.sheet('Leads').getRange('D2:D10001').getValues().map((row) => row[0]);
  const expected = simulatedOutcomes(leads.filter((p, i) => i % 2 === 0).map((p) => p.contact));
  assert.deepEqual(emails.filter((e, i) => i % 2 === 0), expected.map((o) => o.email || ''));
  assert.deepEqual(new Set(emails.filter((e, i) => i % 2 === 1)), new Set(['kept@example.com']), 'done rows untouched');
  assert.equal((await stack.simulatorStats()).calls, 5000);
  t.diagnostic(`largest Document Property during the run: ${largest} bytes`);
  await stack.configureSimulator({latency_ms: 20});
});

test('two editors, a formula recalculating while a sidebar run writes, and a schedule tick, all at once: no cell lost, no contact paid twice', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 0, rate: 1000});
  const leads = people(150, 'race');
  const gas = new AppsScript({strict: true, user: ANN, sheets: {Leads: rowsOf(leads)}});
  gas.call('saveSettings', settings());
  // Bob's column of formulas over the same people.
  gas.typeFormula('Leads', 'H2', '=PRONTO_EMAIL(A2:A151, B2:B151, C2:C151)');
  gas.select('Leads', 'A2:C151');
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  // Bob schedules the sheet; Ann enriches it from the sidebar; the timer's tick is due too.
  gas.callAs(BOB, 'saveSchedule', {sheetName: 'Leads', frequency: 'every2h', types: ['email']});
  let view = gas.call('startRun', {sheetName: 'Leads', scope: 'selection', firstRow: 2, lastRow: 151, mapping: plan.mapping, types: ['email']});
  gas.locks.holdElsewhere(`document:${gas.spreadsheet.getId()}`, gas.clock.now() + 3000);

  for (let guard = 0; view.active && guard < 50; guard++) {
    view = gas.call('stepRun', view.id);
    gas.recalculate('Leads', {force: true}); // Sheets recalculating Bob's formula meanwhile
    gas.advance(60000); // the timer's ticks (the schedule) between the page's steps
  }

  assert.equal(view.status, 'done');
  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  const sheet = gas.sheet('Leads');
  const emailColumn = sheet.getRange(1, 1, 1, sheet.getLastColumn()).getValues()[0].indexOf('Email') + 1;
  assert.ok(emailColumn > 0, 'the run added its Email column');
  assert.deepEqual(sheet.getRange(2, emailColumn, 150, 1).getValues().map((r) => r[0]), expected, 'every row has its own answer');
  assert.deepEqual(sheet.getRange('H2:H151').getValues().map((r) => r[0]), expected, 'and so does every formula cell');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.calls, new Set(Object.values(stats.by_contact)).size], [150, 1], 'each contact paid once');
});

test('trigger time is counted per person across spreadsheets, in their User Properties, idle ticks included', () => {
  const google = new FakeGoogle();
  const one = new AppsScript({google, spreadsheetId: 'one', user: ANN, strict: true});
  const two = new AppsScript({google, spreadsheetId: 'two', user: ANN, strict: true});
  one.call('saveSettings', {url: 'http://127.0.0.1:9', token: 't', tokenScope: 'shared'});
  two.call('saveSettings', {url: 'http://127.0.0.1:9', token: 't', tokenScope: 'shared'});

  // Ten minutes and a half: the two timers start a few milliseconds apart, so exactly ten
  // minutes could cut the second's tenth tick.
  const ticks = google.advance(10.5 * 60000);

  assert.equal(ticks.length, 20, 'two spreadsheets, a tick a minute each');
  assert.ok(ticks.every((tick) => tick.value === 'idle'));
  const counted = JSON.parse(one.userProperties(ANN).getProperty('PRONTO_TRIGGER_TIME'));
  assert.ok(counted.ms >= 20, 'every idle tick of both spreadsheets is counted, in Ann\'s own User Properties');
  assert.equal(two.userProperties(ANN), one.userProperties(ANN), 'one count for the person, whatever the spreadsheet');
});

test('when the person\'s daily URL calls are used up, the formula says which Google limit it is and when it resets', () => {
  const google = new FakeGoogle();
  const gas = new AppsScript({google, user: ANN, strict: true, sheets: {Leads: rowsOf(people(1, 'quota'))}});
  gas.call('saveSettings', settings());
  google.quotas.urlFetch.preload(ANN, 20000);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');

  const [outcome] = gas.recalculate('Leads');

  assert.equal(outcome.error, 'Google\'s daily limit of URL calls for this account is reached (20,000 a day, 100,000 with ' +
    'Google Workspace): Pronto can ask nothing more until it resets, 24 hours after the first call of the day. Cells keep the ' +
    'answers they have.');
});

test('the sidebar warns once this spreadsheet made most of the URL calls Google allows a day, counting every call', () => {
  const gas = new AppsScript({strict: true, user: ANN, sheets: {Leads: rowsOf(people(1, 'calls'))}});
  gas.call('saveSettings', settings());
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');
  gas.recalculate('Leads');
  const key = `pronto-fetches|${new Date(gas.clock.now()).toISOString().slice(0, 10)}`;
  assert.equal(gas.documentCache.get(key), '1', 'the formula\'s call was counted');
  assert.equal(gas.call('getSidebarPlan', {}).callsNotice, '');

  gas.documentCache.put(key, '16500', 21600);

  assert.match(gas.call('getSidebarPlan', {}).callsNotice,
      /^This spreadsheet made 16,500 calls to the Pronto function today; Google allows 20,000 URL calls a day/);
});

test('with getDocumentLock() returning null everywhere, a sidebar run, its timer and the formulas still work', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 0, rate: 1000});
  const leads = people(60, 'nolock');
  const gas = new AppsScript({strict: true, nullDocumentLock: () => true, sheets: {Leads: rowsOf(leads)}});
  gas.call('saveSettings', settings());
  gas.typeFormula('Leads', 'H2', '=PRONTO_EMAIL(A2:A61, B2:B61, C2:C61)');
  const [formula] = gas.recalculate('Leads');
  gas.select('Leads', 'A2:C61');
  const plan = gas.call('getSidebarPlan', {types: ['email']});

  let view = gas.call('startRun', {sheetName: 'Leads', scope: 'selection', firstRow: 2, lastRow: 61, mapping: plan.mapping, types: ['email']});
  view = gas.call('stepRun', view.id);
  gas.advance(5 * 60000); // the page closed: the timer goes on
  view = gas.call('getRunView');

  assert.deepEqual([view.status, view.error], ['done', null]);
  assert.equal(formula.error, null);
  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  assert.deepEqual(gas.sheet('Leads').getRange('H2:H61').getValues().map((r) => r[0]), expected);
});

// Last: its 1,500 lookups of a minute each keep Pronto busy after it ends.
test('the worst-case formula (1,500 rows, Pronto slower than any wait, every lock held elsewhere) returns in under 28 s of its 30', async (t) => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 60000, max_open: 1200, rate: 1000});
  try {
    const leads = people(1500, 'worst');
    const gas = new AppsScript({strict: true, sheets: {Leads: rowsOf(leads)}});
    gas.sheet('Leads').insertRowsAfter(gas.sheet('Leads').getMaxRows(), 600);
    gas.call('saveSettings', settings());
    // A sidebar run and a timer tick hold the document and script locks for the whole minute.
    gas.locks.holdElsewhere(`document:${gas.spreadsheet.getId()}`, gas.clock.now() + 60000);
    gas.locks.holdElsewhere('script', gas.clock.now() + 60000);
    gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A1501, B2:B1501, C2:C1501)');

    const [outcome] = gas.recalculate('Leads');

    const execution = gas.executions.filter((e) => e.kind === 'custom').pop();
    assert.deepEqual([outcome.error, outcome.killed], [null, false]);
    assert.ok(execution.ms < 28000, `returned after ${execution.ms} ms of fake time`);
    t.diagnostic(`the formula returned after ${execution.ms} ms of fake time`);
    const calls = gas.enrichRequests().map((f) => JSON.parse(f.payload));
    assert.deepEqual(calls.map((c) => c.contacts.length), [1000, 500], 'two calls: 1,000 contacts at most per call');
    assert.ok(calls.every((c) => c.timeout_s <= 20), 'the function is told to answer within the time left');
    assert.equal(gas.documentProperties.getKeys().filter((key) => key.startsWith('PRONTO_PENDING|')).length, 1,
        'the cell is recorded, so it fills once Pronto answers');
  } finally {
    await stack.configureSimulator({latency_ms: 20});
  }
});
