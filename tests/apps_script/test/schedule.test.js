'use strict';
// The scheduled refresh: one per spreadsheet, run by its owner's Pronto timer, seen by every
// editor, in the spreadsheet's time zone, within the trigger quota, logged with counts.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
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

const ALICE = DEFAULT_USER;
const BOB = 'bob@example.com';
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

function settings() {
  return {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token};
}

function smallSheet(tag, extra = {}) {
  const rows = [0, 2, 4].map((i) => person(i, tag)).map((p) => [p.first, p.last, p.companyOrDomain, '']);
  return new AppsScript({sheets: {Leads: [HEADER, ...rows], Other: [HEADER, ...rows]}, documentProperties: settings(), ...extra});
}

test('two editors: the second sees the first\'s schedule and who owns it, cannot make a second one, and no second trigger exists', () => {
  const gas = smallSheet('editors');
  gas.callAs(ALICE, 'showScheduleDialog');
  gas.callAs(ALICE, 'saveSchedule', {sheetName: 'Leads', frequency: 'daily', hour: 6, types: ['email']});

  gas.callAs(BOB, 'showScheduleDialog');
  const bobSees = gas.callAs(BOB, 'getScheduleView');

  assert.deepEqual([bobSees.schedule.owner, bobSees.schedule.mine, bobSees.schedule.sheetName], [ALICE, false, 'Leads']);
  assert.deepEqual([bobSees.timer.owner, bobSees.timer.mine, bobSees.timer.live], [ALICE, false, true]);
  assert.throws(() => gas.callAs(BOB, 'saveSchedule', {sheetName: 'Other', frequency: 'every6h', types: ['email']}), {
    message: `This spreadsheet's schedule belongs to ${ALICE}: only they can change or remove it (anyone can pause it or run it now). Ask them, or have them remove it so you can set your own.`,
  });
  assert.throws(() => gas.callAs(BOB, 'removeSchedule'), /belongs to person@example\.com: only they can remove it/);
  assert.deepEqual(gas.triggersOf(BOB), [], 'Bob has no trigger: opening the dialog did not add one');
  assert.deepEqual(gas.triggersOf(ALICE).map((t) => t.spec.functionName), ['onProntoTimer']);
  assert.equal(gas.callAs(ALICE, 'getScheduleView').schedule.sheetName, 'Leads');

  // Bob may pause it (nothing is spent), and that is logged.
  const paused = gas.callAs(BOB, 'pauseSchedule', true);
  assert.equal(paused.schedule.paused, true);
  assert.deepEqual([paused.log[0].how, paused.log[0].by], ['pause', BOB]);
});

test('saving twice keeps one trigger; a stale timer of someone else is taken over, with the schedule', () => {
  const gas = smallSheet('takeover');
  gas.callAs(ALICE, 'saveSchedule', {sheetName: 'Leads', frequency: 'every6h', types: ['email']});
  gas.callAs(ALICE, 'saveSchedule', {sheetName: 'Other', frequency: 'daily', hour: 7, types: ['email', 'phone']});
  assert.equal(gas.triggers.length, 1);

  // Alice leaves: her trigger is gone (her account lost access), so her timer stops ticking.
  gas.triggerRegistry.remove(gas.triggersOf(ALICE)[0].id);
  gas.clock.advance(60 * 60000);
  gas.callAs(BOB, 'showEnrichSidebar');

  assert.deepEqual(gas.triggers.map((t) => t.owner), [BOB]);
  const view = gas.callAs(BOB, 'getScheduleView');
  assert.deepEqual([view.schedule.owner, view.schedule.mine, view.timer.owner], [BOB, true, BOB]);
  assert.match(view.log[0].message, /^The Pronto timer of person@example\.com had stopped running; bob@example\.com's timer runs the schedule from now on\.$/);
});

test('frequencies fit the 90 minutes of trigger time a day, with the quota shown; an unknown one is refused', () => {
  const gas = smallSheet('quota');
  const view = gas.call('getScheduleView');

  assert.deepEqual(view.frequencies.map((f) => [f.id, f.maxMinutesPerDay]), [
    ['every2h', 48], ['every4h', 24], ['every6h', 16], ['every12h', 8], ['daily', 4],
  ]);
  view.frequencies.forEach((f) => assert.ok(f.maxMinutesPerDay + view.quota.reservedMinutes <= view.quota.minutesPerDay));
  assert.deepEqual(view.quota, {minutesPerDay: 90, workspaceHoursPerDay: 6, reservedMinutes: 15});
  assert.throws(() => gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'hourly', types: ['email']}),
      {message: 'Choose how often to refresh: every 2 hours, every 4 hours, every 6 hours, every 12 hours, every day.'});
  assert.throws(() => gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'daily', types: []}), /Tick at least one of Email, Phone or Personal email/);
});

test('a daily refresh runs at its hour in the spreadsheet\'s time zone, not UTC', async () => {
  await stack.resetSimulator();
  const gas = smallSheet('timezone', {timeZone: 'Asia/Tokyo'});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: gas.sheet('Leads').dump()}, true);
  const saved = gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'daily', hour: 5, types: ['email']});
  assert.match(saved.schedule.nextDue, / 05:00 GMT\+9$/);
  assert.equal(saved.timeZone, 'Asia/Tokyo');
  assert.equal(gas.triggers[0].spec.timeZone, 'Asia/Tokyo', 'the timer is created in the spreadsheet\'s time zone');

  gas.advance(24 * 3600000);

  const runs = gas.call('getScheduleView').log.filter((entry) => entry.how === 'schedule');
  assert.equal(runs.length, 1, 'one run in 24 hours');
  const tokyo = new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
  assert.match(tokyo.format(new Date(runs[0].at)), /^05:0\d$/, 'at 05:00 in Tokyo');
  assert.equal(runs[0].message, 'Filled by the Pronto function.');
});

test('a run the function cannot do is done here in chunks, stops well inside 6 minutes, and the next run resumes there; every run is logged with counts', async () => {
  await stack.resetSimulator();
  const rows = refreshRows();
  let gas = null;
  // Each /enrich call is made to take a minute of the execution's clock (the most UrlFetchApp waits).
  gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: settings(),
    onFetch: (entry) => {
      if (entry.url.endsWith('/enrich') && JSON.parse(entry.payload).contacts.length) gas.clock.advance(60000);
    },
  });
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, false);
  gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'every2h', types: ['email']});
  const sheet = gas.sheet('Leads');

  const firstTicks = gas.advance(60000);

  const refresh = firstTicks.find((tick) => /schedule/.test(tick.value));
  assert.ok(refresh, 'the first tick ran the refresh');
  assert.equal(refresh.killed, false, 'the tick ended by itself inside the 6-minute limit');
  assert.ok(refresh.ms < 5.5 * 60000, `it took ${refresh.ms / 60000} minutes of trigger time`);
  const fill = gas.fetches.filter((f) => f.url.endsWith('/fill'));
  assert.deepEqual(fill.map((f) => [f.status, JSON.parse(f.body).error.code]), [[403, 'sheet_not_shared']]);
  const chunks = gas.enrichRequests().length;
  assert.equal(chunks, 4, 'four chunks of 100 rows, a minute each, in a 4-minute tick');
  let view = gas.call('getScheduleView');
  const nextRow = 2 + chunks * 100;
  assert.equal(view.schedule.nextRow, nextRow);
  assert.equal(view.log[0].message, `Stopped at row ${nextRow} to stay inside the time Apps Script gives a run; the next run continues from there.`);
  assert.equal(view.log[0].level, 'ok');
  const statuses = sheet.getRange('F2:F801').getValues().map((r) => r[0]);
  rows.forEach((row, i) => {
    if (row[3] === KEPT) {
      assert.equal(statuses[i], '', `row ${i + 2} was not touched`);
    } else if (i < nextRow - 2) {
      assert.match(statuses[i], row[1] ? /^(success|not_found)/ : /^invalid: Add the last name to this row\.$/, `row ${i + 2}`);
    } else {
      assert.equal(statuses[i], '', `row ${i + 2} waits for the next run`);
    }
  });
  const done = expectedLookups(rows, 0, nextRow - 2);
  assert.equal((await stack.simulatorStats()).served, done.size);
  const counts = view.log[0].counts;
  assert.equal(counts.found + counts.notFound, [...rows.slice(0, nextRow - 2)].filter((r) => r[1] && r[3] !== KEPT).length);

  // The second run goes on from row 402 to the end; the third one wraps to the top, finds
  // rows 2–401 done, and finishes.
  gas.advance(4 * 3600000);

  view = gas.call('getScheduleView');
  const runs = view.log.filter((entry) => entry.how === 'schedule');
  assert.equal(runs.length, 3, 'a run every two hours');
  assert.equal(runs[1].message, 'Stopped at row 2 to stay inside the time Apps Script gives a run; the next run continues from there.');
  assert.equal(runs[0].message, 'Every row was looked at.');
  assert.ok(Math.abs(runs[1].at - runs[2].at - 2 * 3600000) < 60000, 'two hours apart');
  assert.equal(view.schedule.nextRow, 0, 'the next run starts from the top');
  const enrichBodies = gas.enrichRequests().map((r) => JSON.parse(r.payload));
  assert.deepEqual(new Set(enrichBodies.map((b) => b.priority)), new Set(['background']));
  const stats = await stack.simulatorStats();
  assert.equal(stats.served, expectedLookups(rows, 0, 800).size, 'every distinct person was looked up once, none twice');
  assert.deepEqual(new Set(Object.values(stats.by_contact)), new Set([1]));
});

test('the schedule uses the columns picked in the sidebar; without them its error says to pick them there', async () => {
  await stack.resetSimulator();
  const rows = [0, 1, 2].map((i) => person(i, 'picked')).map((p) => [p.first, p.last, p.companyOrDomain]);
  const gas = new AppsScript({sheets: {Leads: [['Given', 'Family', 'Org or site'], ...rows]}, documentProperties: settings()});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: gas.sheet('Leads').dump()}, false);

  assert.throws(() => gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'daily', types: ['email']}),
      {message: 'Pronto needs a first name and a last name column (or a full name column) and a company, website or LinkedIn column in "Leads". Headers found: "Given", "Family", "Org or site". Expected headers such as First name, Last name, Full name, Company, Website or LinkedIn (in English, French, Spanish or German): rename the columns, or pick them in Pronto ▸ Enrich selected rows (the schedule uses the columns picked there for this sheet).'});

  // The person picks the columns in the sidebar and starts (then cancels) a run: they are kept for this sheet.
  const mapping = {firstname: 0, lastname: 1, full_name: -1, company_name: -1, domain: 2, linkedin_url: -1};
  const run = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 4, mapping, types: ['email']});
  gas.call('cancelRun', run.id);
  const saved = gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'daily', types: ['email']});
  assert.equal(saved.mappingsPicked.Leads, true);

  const view = gas.call('runScheduleNow');

  assert.equal(view.log[0].how, 'run now');
  assert.equal(view.log[0].message, 'Every row was looked at.');
  const fill = gas.fetches.find((f) => f.url.endsWith('/fill') && !JSON.parse(f.payload).dry_run);
  assert.deepEqual(JSON.parse(fill.payload).columns, {firstname: 'A', lastname: 'B', domain: 'C'}, 'the function was offered the same columns');
  const expected = simulatedOutcomes(rows.map(([firstname, lastname, site]) => (site.includes('.') ? {firstname, lastname, domain: site} : {firstname, lastname, company_name: site})));
  assert.deepEqual(gas.sheet('Leads').getRange('D2:D4').getValues().map((r) => r[0]), expected.map((o) => o.email || ''));
  assert.deepEqual([view.log[0].counts.found, view.log[0].counts.notFound], [expected.filter((o) => o.email).length, expected.filter((o) => !o.email).length]);
});

test('Pause stops the runs, Resume brings them back', async () => {
  const gas = smallSheet('pause');
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: gas.sheet('Leads').dump()}, true);
  gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'every2h', types: ['email']});
  gas.call('pauseSchedule', true);

  gas.advance(5 * 3600000);
  assert.equal(gas.fetches.filter((f) => f.url.endsWith('/fill')).length, 0, 'nothing ran while paused');

  gas.call('pauseSchedule', false);
  gas.advance(2 * 60000);
  assert.equal(gas.fetches.filter((f) => f.url.endsWith('/fill')).length, 1);
  assert.deepEqual(gas.call('getScheduleView').log.map((e) => e.how), ['schedule', 'resume', 'pause']);
});

test('a failed run shows as an error in the log and in a note the next time the spreadsheet opens, since Google e-mails add-ons nothing', () => {
  const gas = smallSheet('deleted');
  gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'every2h', types: ['email']});
  gas.spreadsheet.sheets = gas.spreadsheet.sheets.filter((sheet) => sheet.getName() !== 'Leads');

  const ticks = gas.advance(60000);

  const sentence = 'The scheduled sheet "Leads" was deleted: choose a sheet again in Pronto ▸ Schedule refresh….';
  assert.deepEqual([ticks[0].value, ticks[0].error], ['schedule error', null], 'the tick ends cleanly: nobody would hear of a thrown error');
  gas.open('LIMITED');
  assert.deepEqual(gas.spreadsheet.toasts.map((toast) => toast.message),
      [`The scheduled refresh failed: ${sentence} See Extensions ▸ Pronto enrichment ▸ Schedule refresh….`]);
  const entry = gas.call('getScheduleView').log[0];
  assert.deepEqual([entry.level, entry.message], ['error', sentence]);
  assert.equal(gas.fetches.length, 0);
  gas.open('LIMITED');
  assert.equal(gas.spreadsheet.toasts.length, 1, 'once someone looked at the log, the note is not shown again');
});

test('a due run the timer cannot start leaves a trace: a busy timer, or no trigger time left today', () => {
  const gas = smallSheet('skipped');
  gas.call('saveSchedule', {sheetName: 'Leads', frequency: 'every2h', types: ['email']});
  const timer = JSON.parse(gas.documentProperties.getProperty('PRONTO_TIMER'));
  // A tick that was stopped mid-way still holds the timer for a few minutes.
  gas.documentProperties.setProperty('PRONTO_TIMER', JSON.stringify({...timer, busyUntil: gas.clock.now() + 5 * 60000}));

  const [busy] = gas.advance(60000);

  assert.equal(busy.value, 'busy');
  let log = gas.call('getScheduleView').log;
  assert.deepEqual([log[0].how, log[0].level], ['skipped', 'warning']);
  assert.match(log[0].message, /^Delayed: the previous tick of the Pronto timer was still working/);

  // The day's trigger time is nearly used up (the timer counts its ticks).
  const now = gas.clock.now();
  gas.documentProperties.setProperty('PRONTO_TIMER', JSON.stringify({...timer, busyUntil: 0}));
  // Counted per person, in the timer owner's User Properties (Google's limit is per user).
  gas.userProperties(DEFAULT_USER).setProperty('PRONTO_TRIGGER_TIME', JSON.stringify({since: now - 3600000, ms: 80 * 60000}));
  gas.advance(60000);
  log = gas.call('getScheduleView').log;
  assert.match(log[0].message, /^Skipped: the Pronto timer used the trigger time Google gives it for today/);
  assert.equal(gas.fetches.length, 0);
});
