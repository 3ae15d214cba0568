'use strict';
// Scheduled refresh: one trigger, /fill when the sheet is shared, else in-script chunks that resume.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {person} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;

before(async () => {
  // The function fills sheets through the project's Sheets API emulator, which holds a
  // copy of each test's spreadsheet (shared with the function or not).
  stack = await startStack({rate: 250, sheets: true});
});

after(async () => {
  if (stack) await stack.stop();
});

const HEADER = ['Prénom', 'NOM', 'Company Website', 'Email'];
const KEPT = 'kept@example.com';

/**
 * 800 data rows: distinct people, every 20th row repeating the person ten rows
 * above, every 97th missing its last name, every 50th already filled.
 */
function refreshRows() {
  return Array.from({length: 800}, (unused, i) => {
    const p = person(i % 20 === 19 ? i - 10 : i, 'sched');
    const last = i % 97 === 0 ? '' : p.last;
    return [p.first, last, p.companyOrDomain, i % 50 === 1 ? KEPT : ''];
  });
}

/** Distinct people a refresh of rows [from, to) must look up (valid, not filled). */
function expectedLookups(rows, from, to) {
  const keys = new Set();
  rows.slice(from, to).forEach(([first, last, company, email]) => {
    if (last && !email) keys.add(`${first}|${last}|${company}`);
  });
  return keys;
}

function settings(url) {
  return {PRONTO_FUNCTION_URL: url, PRONTO_FUNCTION_TOKEN: stack.token};
}

test('scheduling installs exactly one trigger, scheduling again still one, unscheduling removes it', () => {
  const gas = new AppsScript({sheets: {Leads: [HEADER], Other: [HEADER]}, documentProperties: settings(stack.functionUrl)});

  const first = gas.call('scheduleRefresh', {sheetName: 'Leads', frequency: 'hourly'});
  assert.equal(first.triggers, 1);
  assert.deepEqual(gas.scriptApp.triggers.map((t) => [t.getHandlerFunction(), t.spec.everyHours]), [['runScheduledRefresh', 1]]);

  const second = gas.call('scheduleRefresh', {sheetName: 'Other', frequency: 'daily'});
  assert.equal(second.triggers, 1);
  assert.deepEqual(gas.scriptApp.triggers.map((t) => [t.getHandlerFunction(), t.spec.everyDays, t.spec.atHour]), [['runScheduledRefresh', 1, 5]]);
  assert.equal(second.schedule.sheetName, 'Other');
  assert.equal(second.schedule.frequency, 'daily');

  const removed = gas.call('unscheduleRefresh');
  assert.equal(removed.triggers, 0);
  assert.equal(removed.schedule, null);
  assert.equal(gas.scriptApp.triggers.length, 0);
  assert.throws(() => gas.call('scheduleRefresh', {sheetName: 'Leads', frequency: 'weekly'}),
      /Choose how often to refresh: hourly or daily\./);
});

test('a triggered run on a sheet the function cannot open enriches in chunks, stops before 6 minutes, and the next run resumes there', async () => {
  await stack.resetSimulator();
  const rows = refreshRows();
  let gas = null;
  // Each /enrich call is made to take a minute of the execution's clock (the most UrlFetchApp waits).
  gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: settings(stack.functionUrl),
    onFetch: (entry) => {
      if (entry.url.endsWith('/enrich')) gas.clock.advance(60000);
    },
  });
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, false);
  gas.call('scheduleRefresh', {sheetName: 'Leads', frequency: 'hourly'});
  const sheet = gas.sheet('Leads');

  const [run1] = gas.fireTimeTriggers();

  assert.equal(run1.error, null);
  assert.equal(run1.killed, false, 'the run ended by itself inside the 6-minute limit');
  const fill = gas.fetches.filter((f) => f.url.endsWith('/fill'));
  assert.equal(fill.length, 1, 'the function was asked to fill the sheet first');
  assert.equal(fill[0].status, 403);
  assert.equal(JSON.parse(fill[0].body).error.code, 'sheet_not_shared');
  assert.equal(run1.value.mode, 'script');
  assert.equal(run1.value.nextRow, 502);
  assert.equal(run1.value.message, 'Stopped at row 502 to stay inside the 6-minute limit; the next run continues from there.');
  assert.equal(gas.enrichRequests().length, 5, 'five chunks of 100 rows');
  const header = sheet.getRange('A1:H1').getValues()[0];
  assert.deepEqual(header, [...HEADER, 'Email status', 'Phone', 'Phone status', 'Pronto status']);
  const statuses = sheet.getRange('H2:H801').getValues().map((r) => r[0]);
  const emails = sheet.getRange('D2:D801').getValues().map((r) => r[0]);
  rows.forEach((row, i) => {
    if (row[3] === KEPT) {
      assert.equal(emails[i], KEPT, `row ${i + 2} kept its email`);
      assert.equal(statuses[i], '', `row ${i + 2} was not touched`);
    } else if (i < 500) {
      assert.match(statuses[i], row[1] ? /^(success|not_found)/ : /^invalid: Add the last name to this row\.$/, `row ${i + 2}`);
    } else {
      assert.equal(statuses[i], '', `row ${i + 2} waits for the next run`);
    }
  });
  const firstHalf = expectedLookups(rows, 0, 500);
  assert.equal((await stack.simulatorStats()).served, firstHalf.size);

  const [run2] = gas.fireTimeTriggers();

  assert.equal(run2.error, null);
  assert.equal(run2.value.mode, 'script');
  assert.equal(run2.value.complete, true);
  assert.equal(run2.value.message, 'Every row was looked at.');
  const enrichBodies = gas.enrichRequests().slice(5).map((r) => JSON.parse(r.payload));
  assert.equal(enrichBodies[0].priority, 'background');
  const finalStatuses = sheet.getRange('H2:H801').getValues().map((r) => r[0]);
  rows.forEach((row, i) => {
    if (row[3] !== KEPT) assert.notEqual(finalStatuses[i], '', `row ${i + 2} has a result`);
  });
  const stats = await stack.simulatorStats();
  const all = expectedLookups(rows, 0, 800);
  assert.equal(stats.served, all.size, 'every distinct person was looked up once, none twice');
  assert.deepEqual(new Set(Object.values(stats.by_contact)), new Set([1]));
  assert.equal(gas.call('getScheduleView').schedule.nextRow, 0, 'the next run starts from the top');
});

test('when the sheet is shared with the function, the triggered run has POST /fill do the work and writes nothing itself', async () => {
  await stack.resetSimulator();
  // Websites only, one row filled, one missing its last name.
  const rows = [0, 2, 4, 6, 8].map((i) => person(i, 'shared')).map((p) => [p.first, p.last, p.companyOrDomain, '']);
  rows[1][3] = KEPT;
  rows[3][1] = '';
  const gas = new AppsScript({sheets: {Leads: [HEADER, ...rows]}, documentProperties: settings(stack.functionUrl)});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);
  gas.call('scheduleRefresh', {sheetName: 'Leads', frequency: 'daily', types: ['email', 'phone']});
  const before = gas.sheet('Leads').dump();

  const [run] = gas.fireTimeTriggers();

  assert.equal(run.error, null);
  assert.equal(run.value.mode, 'server');
  assert.deepEqual(gas.fetches.map((f) => [f.method, f.url, f.status]), [['POST', `${stack.functionUrl}/fill`, 200]]);
  assert.deepEqual(JSON.parse(gas.fetches[0].payload), {
    spreadsheet_id: gas.spreadsheet.getId(), sheet: 'Leads', enrichment_type: ['email', 'phone'],
  });
  assert.equal(gas.fetches[0].headers.Authorization, `Bearer ${stack.token}`);
  assert.equal(run.value.summary.rows, 5);
  assert.equal(run.value.summary.skipped_filled, 1);
  assert.deepEqual(gas.sheet('Leads').dump(), before, 'the script itself wrote nothing');
  // The function wrote the results into the (emulated) spreadsheet itself.
  const cells = await stack.spreadsheetCells(gas.spreadsheet.getId(), 'Leads');
  const expected = simulatedOutcomes(rows.map(([firstname, lastname, site]) => (
    site.includes('.') ? {firstname, lastname, domain: site} : {firstname, lastname, company_name: site})));
  rows.forEach((row, i) => {
    if (row[3] === KEPT || !row[1]) return;
    assert.equal(cells.rows[i + 1][3], expected[i].email || '', `row ${i + 2} filled by the function`);
  });
  assert.equal((await stack.simulatorStats()).served, 3);
});

test('a scheduled sheet that was renamed makes the run fail with a sentence saying how to fix it', () => {
  const gas = new AppsScript({sheets: {Leads: [HEADER]}, documentProperties: settings(stack.functionUrl)});
  gas.call('scheduleRefresh', {sheetName: 'Leads', frequency: 'hourly'});
  gas.sheet('Leads').name = 'Prospects';

  const [run] = gas.fireTimeTriggers();

  const sentence = 'The scheduled sheet "Leads" was renamed or deleted: choose it again in Pronto ▸ Schedule refresh….';
  assert.equal(run.error, sentence);
  assert.equal(gas.call('getScheduleView').schedule.lastRun.message, sentence);
  assert.equal(gas.fetches.length, 0);
});
