'use strict';
// The sidebar's server side: the plan (rows, columns, estimate, settings check) and runs
// that write row by row, stop honestly, and outlive the sidebar.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {person, people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

let stack;
let poorStack;

before(async () => {
  [stack, poorStack] = await Promise.all([
    startStack({rate: 250, sheets: true}),
    // A function whose daily credit budget covers ten emails.
    startStack({rate: 250, functionEnv: {PRONTO_DAILY_CREDIT_BUDGET: '30'}}),
  ]);
});

after(async () => {
  await Promise.all([stack, poorStack].filter(Boolean).map((s) => s.stop()));
});

const HEADER = ['Prénom', 'NOM', 'Company Website', 'LinkedIn URL', 'E-mail'];
const BAD_TOKEN = 'The access token is not valid. Copy the current token into Pronto ▸ Settings.';

/**
 * 30 rows: 2 blank, 4 with an email already, 2 missing a last name, 3 repeating an
 * earlier person (written differently), the last two without a LinkedIn URL, the rest
 * distinct.
 */
function messyRows() {
  const rows = [];
  for (let i = 0; i < 30; i++) {
    const p = person(i, 'side');
    rows.push([p.first, p.last, p.companyOrDomain, i >= 28 ? '' : p.linkedin, '']);
  }
  rows[5] = ['', '', '', '', ''];
  rows[6] = ['', '', '', '', ''];
  [1, 9, 14, 22].forEach((i) => { rows[i][4] = 'known@example.com'; });
  rows[3][1] = '';
  rows[17][1] = '';
  // The same people as rows 2, 4 and 10, typed differently (case, spaces, a URL for the
  // domain, the LinkedIn URL in capitals or without its scheme).
  rows[25] = [rows[2][0].toUpperCase(), ` ${rows[2][1]} `, `https://www.${rows[2][2]}/about`, rows[2][3].toUpperCase(), ''];
  rows[26] = [rows[4][0], rows[4][1].toLowerCase(), rows[4][2], rows[4][3].replace('https://www.', ''), ''];
  rows[27] = [rows[10][0], rows[10][1], rows[10][2].toUpperCase(), rows[10][3], ''];
  return rows;
}

const NOT_FOUND = 'No email or phone found for this profile.';
const NEEDS_LINKEDIN = 'Add a LinkedIn URL to look up a phone.';

/**
 * The cells E..I (Email, Email status, Phone, Phone status, Pronto status) a run for
 * email and phone writes on a row of messyRows(), from what the simulator finds.
 */
function expectedCells(row, o) {
  if (!row[0]) return ['', '', '', '', ''];
  if (!row[1]) return ['', '', '', '', 'invalid: Add the last name to this row.'];
  const emailDone = Boolean(row[4]);
  const phone = row[3] ? [o.phones.join(', '), o.phones.length ? 'valid' : 'not_found'] : ['', `needs_linkedin: ${NEEDS_LINKEDIN}`];
  const email = emailDone ? [row[4], ''] : [o.email || '', o.email ? o.email_status : 'not_found'];
  const found = (!emailDone && o.email) || (row[3] && o.phones.length);
  const messages = [found ? '' : NOT_FOUND, row[3] ? '' : NEEDS_LINKEDIN].filter(Boolean).join(' ');
  const status = `${found ? 'success' : 'not_found'}${messages ? `: ${messages}` : ''}`;
  return [...email, ...phone, status];
}

function distinctRows(count, tag) {
  return people(count, tag).map((p) => [p.first, p.last, p.companyOrDomain, '', '']);
}

function sheetWith(rows, options = {}, target = stack) {
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: target.functionUrl, PRONTO_FUNCTION_TOKEN: target.token},
    ...options,
  });
  gas.sheet('Leads').maxColumns = HEADER.length;
  return gas;
}

function contactOf([firstname, lastname, site, linkedin]) {
  const contact = site.includes('.') ? {firstname, lastname, domain: site} : {firstname, lastname, company_name: site};
  return linkedin ? {...contact, linkedin_url: linkedin} : contact;
}

/** Runs a run to its end as the open sidebar does: one stepRun after another. */
function drive(gas, view) {
  let current = view;
  for (let guard = 0; current.active && guard < 100; guard++) current = gas.call('stepRun', current.id);
  return current;
}

function start(gas, plan, scope, types = ['email']) {
  const choice = plan.choices[scope];
  return gas.call('startRun', {sheetName: plan.sheetName, scope, firstRow: choice.firstRow, lastRow: choice.lastRow,
    mapping: plan.mapping, types});
}

test('the plan maps messy French and English headers, offers the selected rows and the whole sheet with counts, and checks the settings for free', async () => {
  await stack.resetSimulator();
  const gas = sheetWith(messyRows().concat(distinctRows(10, 'more')));
  gas.select('Leads', 'A2:E31');

  const plan = gas.call('getSidebarPlan', {types: ['email'], check: true});

  assert.deepEqual(plan.mapping, {firstname: 0, lastname: 1, full_name: -1, company_name: -1, domain: 2, linkedin_url: 3});
  assert.equal(plan.scope, 'selection');
  assert.deepEqual([plan.choices.selection.label, plan.choices.selection.firstRow, plan.choices.selection.lastRow], ['A2:E31', 2, 31]);
  assert.deepEqual(plan.choices.selection.estimate, {rows: 28, toEnrich: 19, filled: 4, duplicates: 3, invalid: 2, needsLinkedin: 0, credits: 57});
  assert.deepEqual([plan.choices.sheet.label, plan.choices.sheet.estimate.rows, plan.choices.sheet.estimate.toEnrich], ['rows 2–41', 38, 29]);
  assert.deepEqual(plan.typeOptions, [{id: 'email', label: 'Email', needsLinkedin: false},
    {id: 'phone', label: 'Phone', needsLinkedin: true}, {id: 'personal_email', label: 'Personal email', needsLinkedin: true}]);
  assert.equal(plan.connection.ok, true);
  assert.match(plan.connection.message, /^Connected: http:\/\/127\.0\.0\.1:\d+ accepts the shared token\. Credits spent today: 0 of 10,000,000\.$/);
  assert.deepEqual(gas.connectionChecks().map((f) => f.status), [200], 'one POST /enrich with no contact');
  assert.equal(gas.enrichRequests().length, 0, 'nothing looked up');
  assert.equal((await stack.simulatorStats()).calls, 0);
  const both = gas.call('getSidebarPlan', {types: ['email', 'phone'], selection: plan.choices.selection});
  assert.deepEqual(both.choices.selection.estimate, {rows: 28, toEnrich: 23, filled: 0, duplicates: 3, invalid: 2, needsLinkedin: 2,
    credits: 17 * 33 + 2 * 3 + 4 * 30}, 'the 4 rows with an email still need their phone; 2 rows have no LinkedIn URL for one');
  const none = gas.call('getSidebarPlan', {types: [], selection: plan.choices.selection});
  assert.deepEqual(none.types, []);
  assert.equal(none.choices.selection.estimate.credits, 0);
});

test('one cell selected means the whole sheet is offered first (the cursor is not a choice of rows)', () => {
  const gas = sheetWith(distinctRows(12, 'cursor'));
  gas.select('Leads', 'C5');

  const plan = gas.call('getSidebarPlan', {});

  assert.equal(plan.scope, 'sheet');
  assert.equal(plan.choices.selection.estimate.rows, 1);
  assert.equal(plan.choices.sheet.estimate.rows, 12);
});

test('a wrong token is reported when the sidebar opens, with the way to Settings, before anything can be spent', async () => {
  await stack.resetSimulator();
  const gas = sheetWith(distinctRows(5, 'badtoken'), {documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: 'stale-token'}});

  const plan = gas.call('getSidebarPlan', {check: true});

  assert.deepEqual([plan.connection.ok, plan.connection.message, plan.connection.fix], [false, BAD_TOKEN, 'settings']);
  assert.equal(gas.enrichRequests().length, 0);
  assert.equal((await stack.simulatorStats()).calls, 0);
});

test('with no type ticked nothing can start: the server refuses too, and sends nothing', () => {
  const gas = sheetWith(distinctRows(5, 'notype'));
  const plan = gas.call('getSidebarPlan', {types: []});

  assert.throws(() => start(gas, plan, 'sheet', []), {message: 'Tick at least one of Email, Phone or Personal email to look something up: nothing was sent.'});
  assert.equal(gas.fetches.length, 0);
});

test('a run writes each result on its own row as plain text, in output columns it adds: every phone, only the types each row still needs, and what to add when a phone needs a LinkedIn URL', async () => {
  await stack.resetSimulator();
  const rows = messyRows();
  const gas = sheetWith(rows);
  gas.select('Leads', 'A2:E31');
  const plan = gas.call('getSidebarPlan', {types: ['email', 'phone']});

  const view = drive(gas, start(gas, plan, 'selection', ['email', 'phone']));

  assert.equal(view.status, 'done');
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:I1').getValues()[0], [...HEADER, 'Email status', 'Phone', 'Phone status', 'Pronto status']);
  const written = sheet.getRange('E2:I31').getValues();
  const expected = simulatedOutcomes(rows.map(contactOf));
  rows.forEach((row, i) => assert.deepEqual(written[i], expectedCells(row, expected[i]), `row ${i + 2}`));
  const found = written.filter((out) => out[4].startsWith('success')).length;
  assert.deepEqual(view.counts, {submitted: 0, found, notFound: 26 - found, waiting: 0, invalid: 2, needsLinkedin: 2, paused: 0, pending: 0,
    failed: 0, overBudget: 0, changed: 0, filled: 0, duplicates: 3});
  assert.ok(written.some((out) => String(out[2]).startsWith('+33')), 'phones are written as text, with their +');
  assert.equal(sheet.getRange('E2:I31').getFormulas().flat().filter(Boolean).length, 0, 'no formulas written');
  const stats = await stack.simulatorStats();
  assert.equal(stats.served, 23, 'duplicates were paid once: 19 people, and 4 more for their phone only');
  assert.deepEqual([stats.by_type.email, stats.by_type.phone, stats.refused_without_linkedin], [19, 21, 0]);
  assert.deepEqual(gas.enrichRequests().map((r) => JSON.parse(r.payload).enrichment_type),
      [['email', 'phone'], ['phone'], ['email']], 'one chunk of 30 rows: one call per set of types left to ask');
});

test('over the credit budget the run stops after the first chunk, says how many rows wait for tomorrow, and counts each outcome', async () => {
  const rows = distinctRows(120, 'budget');
  const gas = sheetWith(rows, {}, poorStack);
  const plan = gas.call('getSidebarPlan', {types: ['email']});

  const view = drive(gas, start(gas, plan, 'sheet'));

  assert.equal(view.status, 'stopped');
  assert.equal(gas.enrichRequests().length, 1, 'no chunk was sent after the one that hit the budget');
  const {found, notFound, overBudget} = view.counts;
  assert.equal(found + notFound + overBudget, 50, 'the first chunk: 50 rows');
  assert.ok(found > 0 && found <= 10 && overBudget > 0, `${found} found with 30 credits, ${overBudget} over budget`);
  assert.equal(view.waitingForTomorrow, overBudget + 70, 'the chunk\'s rows over budget, and the 70 rows not sent');
  assert.equal(view.message, `The daily credit budget is used up: ${overBudget + 70} row(s) wait for tomorrow. Enrich them again tomorrow (or once your admin raises the budget): rows already done are not paid again.`);
  assert.deepEqual([view.creditsSpentToday, view.creditBudget], [found * 3, 30]);
  assert.deepEqual([view.done, view.total, view.percent], [50, 120, 42]);
  const statuses = gas.sheet('Leads').getRange('G2:G121').getValues().map((r) => String(r[0]));
  assert.equal(statuses.filter((s) => s.startsWith('over_budget: ')).length, overBudget);
  assert.equal(statuses.slice(50).filter(Boolean).length, 0, 'rows past the chunk were not touched');
});

test('closing the sidebar mid-run: the Pronto timer continues from the saved row, and reopening shows the run finished', async () => {
  await stack.resetSimulator();
  const rows = distinctRows(180, 'closed');
  const gas = sheetWith(rows);
  gas.call('showEnrichSidebar');
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  const started = start(gas, plan, 'sheet');
  const first = gas.call('stepRun', started.id);
  assert.deepEqual([first.status, first.done, first.total], ['running', 50, 180]);

  // The person closes the sidebar: no more steps. Time passes on the clock.
  const ticks = gas.advance(5 * 60000);

  assert.ok(ticks.some((tick) => /chunk/.test(tick.value)), 'a tick continued the run');
  const reopened = gas.call('getSidebarPlan', {});
  assert.equal(reopened.run.status, 'done');
  assert.deepEqual([reopened.run.done, reopened.run.total, reopened.run.percent], [180, 180, 100]);
  const expected = simulatedOutcomes(rows.map(contactOf));
  const found = expected.filter((o) => o.email).length;
  assert.deepEqual([reopened.run.counts.found, reopened.run.counts.notFound], [found, 180 - found]);
  const emails = gas.sheet('Leads').getRange('E2:E181').getValues().map((r) => r[0]);
  assert.deepEqual(emails, expected.map((o) => o.email || ''));
  assert.equal((await stack.simulatorStats()).served, 180, 'each person paid once, by the page or the timer');
  assert.equal(gas.enrichRequests().length, 4);
  assert.equal(reopened.choices.sheet.estimate.toEnrich, 0, 'nothing is left to do');
});

test('a second Start while a run goes on is refused with who started it', () => {
  const gas = sheetWith(distinctRows(120, 'twice'));
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  start(gas, plan, 'sheet');

  assert.throws(() => start(gas, plan, 'sheet'), {message: 'A run started by person@example.com is still going on "Leads": wait for it, or cancel it in this sidebar.'});
});

test('Cancel stops after the current chunk and keeps the rows done', async () => {
  await stack.resetSimulator();
  const gas = sheetWith(distinctRows(150, 'cancel'));
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  const run = start(gas, plan, 'sheet');
  gas.call('stepRun', run.id);

  const cancelled = gas.call('cancelRun', run.id);

  assert.deepEqual([cancelled.status, cancelled.done, cancelled.active], ['cancelled', 50, false]);
  assert.equal(gas.call('stepRun', run.id).status, 'cancelled');
  gas.advance(5 * 60000);
  assert.equal(gas.enrichRequests().length, 1, 'neither the page nor the timer sent another chunk');
  assert.equal(gas.sheet('Leads').getRange('G52').getValue(), '');
});

test('rows moved while Pronto was searching are left alone, then filled correctly by the next run', async () => {
  await stack.resetSimulator();
  const rows = distinctRows(6, 'moved');
  let gas = null;
  let sorted = false;
  gas = sheetWith(rows, {
    onFetch: (entry) => {
      if (!entry.url.endsWith('/enrich') || !JSON.parse(entry.payload).contacts.length || sorted) return;
      // The person sorts rows 3 and 4 while the lookup runs.
      sorted = true;
      const sheet = gas.sheet('Leads');
      const swap = sheet.rows[2];
      sheet.rows[2] = sheet.rows[3];
      sheet.rows[3] = swap;
    },
  });
  const plan = gas.call('getSidebarPlan', {types: ['email']});

  const firstRun = drive(gas, start(gas, plan, 'sheet'));

  assert.equal(firstRun.counts.changed, 2);
  const sheet = gas.sheet('Leads');
  assert.equal(sheet.value('G3'), '', 'nothing written on the moved row 3');
  assert.equal(sheet.value('G4'), '', 'nothing written on the moved row 4');

  const secondRun = drive(gas, start(gas, gas.call('getSidebarPlan', {types: ['email']}), 'sheet'));

  assert.equal(secondRun.counts.changed, 0);
  assert.equal(secondRun.counts.filled + secondRun.counts.found + secondRun.counts.notFound, 6);
  for (const rowNumber of [3, 4]) {
    const [o] = simulatedOutcomes([contactOf(sheet.getRange(`A${rowNumber}:C${rowNumber}`).getValues()[0])]);
    assert.equal(sheet.value(`E${rowNumber}`), o.email || '', `row ${rowNumber} has its own person's email`);
  }
});

test('when the function can open the spreadsheet, the run is POST /fill on the chosen rows; it goes on after Apps Script stops waiting, and reopening shows it finished', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({latency_ms: 800});
  try {
    const rows = distinctRows(40, 'server');
    // UrlFetchApp stops waiting after about a minute at Google; 2 s here, with a fill that lasts longer.
    const gas = sheetWith(rows, {fetchTimeoutMs: 2000});
    await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);
    gas.linkToEmulator(stack.sheetsUrl, stack.functionUrl);
    gas.select('Leads', 'A2:E31');
    const plan = gas.call('getSidebarPlan', {types: ['email']});

    const view = start(gas, plan, 'selection');

    assert.deepEqual([view.mode, view.status, view.total, view.error], ['server', 'running', 30, null]);
    const fills = gas.fetches.filter((f) => f.url.endsWith('/fill'));
    assert.deepEqual(fills.map((f) => f.status), [200, 'timeout'], 'a dry run, then the fill Apps Script stopped waiting for');
    assert.deepEqual(JSON.parse(fills[1].payload), {
      spreadsheet_id: gas.spreadsheet.getId(), sheet: 'Leads', enrichment_type: ['email'], first_row: 2, last_row: 31, header_row: 1,
      columns: {firstname: 'A', lastname: 'B', domain: 'C', linkedin_url: 'D'},
    });
    // The sidebar is closed; the function goes on, writing into the spreadsheet.
    await waitFor(async () => {
      const cells = await stack.spreadsheetCells(gas.spreadsheet.getId(), 'Leads');
      return cells.rows.slice(1, 31).every((row) => row[6] && row[6] !== 'pending: queued for the Pronto function');
    }, {timeoutMs: 60000, what: 'the function to fill rows 2–31'});

    const reopened = gas.call('getSidebarPlan', {});

    assert.equal(reopened.run.status, 'done');
    assert.deepEqual([reopened.run.done, reopened.run.total], [30, 30]);
    const expected = simulatedOutcomes(rows.map(contactOf));
    const found = expected.slice(0, 30).filter((o) => o.email).length;
    assert.deepEqual([reopened.run.counts.found, reopened.run.counts.notFound], [found, 30 - found]);
    const emails = gas.sheet('Leads').getRange('E2:E41').getValues().map((r) => r[0]);
    assert.deepEqual(emails.slice(0, 30), expected.slice(0, 30).map((o) => o.email || ''));
    assert.deepEqual(emails.slice(30), Array(10).fill(''), 'rows outside the selection were left alone');
    assert.equal(gas.enrichRequests().length, 0, 'Apps Script looked nobody up itself');
  } finally {
    await stack.configureSimulator({latency_ms: 20});
  }
});

test('adding phones to a sheet of 500 emails: exactly 500 phone lookups, the Email cells unchanged, and a second run makes no call', async () => {
  await stack.resetSimulator();
  const leads = people(500, 'phones');
  const emails = leads.map((p, i) => `kept.${i}@example.com`);
  const rows = leads.map((p, i) => [p.first, p.last, p.companyOrDomain, p.linkedin, emails[i]]);
  const gas = sheetWith(rows);
  // Not shared with the function: the sidebar sends the rows itself (the function's /fill
  // follows the same rule, tested on its side).
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, false);
  const plan = gas.call('getSidebarPlan', {types: ['phone']});
  assert.deepEqual(plan.choices.sheet.estimate, {rows: 500, toEnrich: 500, filled: 0, duplicates: 0, invalid: 0, needsLinkedin: 0, credits: 500 * 30},
      'with Phone ticked, rows with an email are still to do');

  const view = drive(gas, start(gas, plan, 'sheet', ['phone']));

  assert.equal(view.status, 'done');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.by_type.phone, stats.by_type.email, stats.by_type.personal_email, stats.refused_without_linkedin], [500, 0, 0, 0]);
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:H1').getValues()[0], [...HEADER, 'Phone', 'Phone status', 'Pronto status'], 'no Email status column: email was not asked');
  assert.deepEqual(sheet.getRange('E2:E501').getValues().map((r) => r[0]), emails, 'Email cells unchanged');
  const expected = simulatedOutcomes(leads.map((p) => p.withLinkedIn));
  assert.deepEqual(sheet.getRange('F2:G501').getValues(), expected.map((o) => [o.phones.join(', '), o.phones.length ? 'valid' : 'not_found']));
  assert.deepEqual([view.counts.found + view.counts.notFound, view.counts.filled], [500, 0]);
  const callsAfterFirst = gas.enrichRequests().length;

  const again = gas.call('getSidebarPlan', {types: ['phone']});
  assert.deepEqual([again.choices.sheet.estimate.filled, again.choices.sheet.estimate.toEnrich], [500, 0]);
  const second = drive(gas, start(gas, again, 'sheet', ['phone']));

  assert.deepEqual([second.status, second.counts.filled], ['done', 500]);
  assert.equal(gas.enrichRequests().length, callsAfterFirst, 'the second run sent nothing');
  assert.equal((await stack.simulatorStats()).calls, stats.calls, 'and Pronto saw nothing');
});
