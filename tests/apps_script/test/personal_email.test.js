'use strict';
// Personal email end to end in the add-in: =PRONTO_PERSONAL_EMAIL, the sidebar's type, its
// columns and price; and an account without Pronto's consent: said once, for the account,
// naming Pronto's settings, while emails go on and Pronto sees at most one refused call a minute.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;
let noConsent;

before(async () => {
  // Two functions: the consent switch is the account's, and the function remembers a refusal
  // for a minute (PRONTO_CONSENT_RETRY_S), so each condition gets its own.
  [stack, noConsent] = await Promise.all([startStack({rate: 250}), startStack({rate: 250})]);
  await noConsent.configureSimulator({personal_email_consent: false});
});

after(async () => {
  await Promise.all([stack, noConsent].filter(Boolean).map((s) => s.stop()));
});

const HEADER = ['First name', 'Last name', 'Company or website', 'LinkedIn'];
const PAUSED = 'Personal emails are paused: accept personal email enrichment in your Pronto account settings.';
const CONSENT_NOTICE = 'Pronto refuses personal email lookups for this account until its owner accepts the terms for personal email enrichment in Pronto\'s account settings (app.prontohq.com, Settings). Personal emails wait until then; emails and phones go on.';

/** `count` people; every third one without a LinkedIn URL. */
function rowsOf(count, tag) {
  return people(count, tag).map((p, i) => [p.first, p.last, p.companyOrDomain, i % 3 === 2 ? '' : p.linkedin]);
}

function contactOf([firstname, lastname, site, linkedin]) {
  const contact = site.includes('.') ? {firstname, lastname, domain: site} : {firstname, lastname, company_name: site};
  return linkedin ? {...contact, linkedin_url: linkedin} : contact;
}

function spreadsheet(rows, target) {
  return new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: target.functionUrl, PRONTO_FUNCTION_TOKEN: target.token},
  });
}

function runToEnd(gas, types) {
  const plan = gas.call('getSidebarPlan', {types});
  const choice = plan.choices.sheet;
  let view = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: choice.firstRow, lastRow: choice.lastRow,
    mapping: plan.mapping, types});
  for (let guard = 0; view.active && guard < 100; guard++) view = gas.call('stepRun', view.id);
  return view;
}

test('=PRONTO_PERSONAL_EMAIL answers with the personal email Pronto found; it needs the LinkedIn argument, and says so', async () => {
  await stack.resetSimulator();
  const rows = rowsOf(6, 'pformula');
  const gas = spreadsheet(rows, stack);
  gas.typeFormula('Leads', 'F2', '=PRONTO_PERSONAL_EMAIL(A2:A7, B2:B7, C2:C7, D2:D7)');
  gas.typeFormula('Leads', 'G2', '=PRONTO_PERSONAL_EMAIL(A2, B2, C2, D2)');
  gas.typeFormula('Leads', 'H2', '=PRONTO_PERSONAL_EMAIL(A4, B4, C4, D4)');
  gas.typeFormula('Leads', 'I2', '=PRONTO_PERSONAL_EMAIL(A2, B2, C2)');

  const [range, single, withoutUrl, withoutArgument] = gas.recalculate('Leads');

  const expected = simulatedOutcomes(rows.map(contactOf));
  assert.equal(range.error, null);
  assert.deepEqual(gas.sheet('Leads').getRange('F2:F7').getValues().map((r) => r[0]),
      expected.map((o, i) => (rows[i][3] ? o.personal_email || '' : '')), 'rows without a LinkedIn URL stay empty');
  assert.ok(expected.some((o, i) => rows[i][3] && o.personal_email), 'some personal email is found');
  assert.deepEqual([single.error, single.value], [null, expected[0].personal_email || '']);
  assert.equal(withoutUrl.error, 'Add a LinkedIn URL to look up a personal email.');
  assert.equal(withoutArgument.error, 'PRONTO_PERSONAL_EMAIL needs the LinkedIn profile URL as its fourth argument: Pronto looks up personal emails only with one, for example =PRONTO_PERSONAL_EMAIL(A2, B2, C2, D2).');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.by_type.personal_email, stats.by_type.email, stats.refused_without_linkedin], [4, 0, 0]);
});

test('PRONTO_ENRICH takes personal_email among its types, with its two columns', async () => {
  const rows = rowsOf(2, 'penrich');
  const gas = spreadsheet(rows, stack);
  gas.typeFormula('Leads', 'F2', '=PRONTO_ENRICH(A2:A3, B2:B3, C2:C3, D2:D3, "email, personal email")');

  const [outcome] = gas.recalculate('Leads');

  assert.equal(outcome.error, null);
  const expected = simulatedOutcomes(rows.map(contactOf));
  assert.deepEqual(gas.sheet('Leads').getRange('F2:J3').getValues(), expected.map((o) => [
    o.email || '', o.email ? o.email_status : 'not_found', o.personal_email || '',
    o.personal_email ? o.personal_email_status : 'not_found',
    o.email || o.personal_email ? 'success' : 'not_found: No email or phone found for this profile.',
  ]));
});

test('the sidebar offers Personal email, prices it from the function, and a run writes only its columns; rows without LinkedIn say what to add', async () => {
  await stack.resetSimulator();
  const rows = rowsOf(30, 'psidebar');
  const gas = spreadsheet(rows, stack);

  const plan = gas.call('getSidebarPlan', {types: ['personal_email'], check: true});

  assert.deepEqual(plan.typeOptions.map((t) => [t.id, t.label, t.needsLinkedin]),
      [['email', 'Email', false], ['phone', 'Phone', true], ['personal_email', 'Personal email', true]]);
  assert.equal(plan.costs.personal_email, 30, 'GET /healthz gives credits_per_personal_email');
  assert.deepEqual(plan.choices.sheet.estimate, {rows: 30, toEnrich: 20, filled: 0, duplicates: 0, invalid: 0, needsLinkedin: 10, credits: 600});

  const view = runToEnd(gas, ['personal_email']);

  assert.equal(view.status, 'done');
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:G1').getValues()[0], [...HEADER, 'Personal email', 'Personal email status', 'Pronto status'],
      'no Email or Phone column: only the type asked, and Pronto status');
  const expected = simulatedOutcomes(rows.map(contactOf));
  sheet.getRange('E2:G31').getValues().forEach((out, i) => {
    const o = expected[i];
    if (!rows[i][3]) {
      assert.deepEqual(out, ['', 'needs_linkedin: Add a LinkedIn URL to look up a personal email.',
        'invalid: Add a LinkedIn URL to look up a personal email.'], `row ${i + 2}`);
    } else {
      assert.deepEqual(out, [o.personal_email || '', o.personal_email ? o.personal_email_status : 'not_found',
        o.personal_email ? 'success' : 'not_found: No email or phone found for this profile.'], `row ${i + 2}`);
    }
  });
  assert.deepEqual([view.counts.needsLinkedin, view.counts.found + view.counts.notFound], [10, 20]);
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.by_type.personal_email, stats.refused_without_linkedin], [20, 0]);
});

test('without Pronto\'s consent: the sidebar says so once, naming Pronto\'s settings; emails go on, personal emails wait; a formula shows the row\'s message; Pronto sees one refused call', async () => {
  await noConsent.resetSimulator();
  await noConsent.configureSimulator({personal_email_consent: false});
  const rows = rowsOf(120, 'consent').map((row) => [row[0], row[1], row[2], row[3] || `https://www.linkedin.com/in/consent-extra-${row[0]}-${row[1]}`]);
  const gas = spreadsheet(rows, noConsent);

  const view = runToEnd(gas, ['email', 'personal_email']);

  assert.equal(view.status, 'done');
  assert.deepEqual(view.notices, [CONSENT_NOTICE], 'said once, for the account');
  assert.equal(view.counts.paused, 120);
  assert.equal(view.error, null);
  const expected = simulatedOutcomes(rows.map(contactOf));
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:H1').getValues()[0], [...HEADER, 'Email', 'Email status', 'Personal email', 'Personal email status']);
  sheet.getRange('E2:H121').getValues().forEach((out, i) => {
    assert.deepEqual(out.slice(0, 3), [expected[i].email || '', expected[i].email ? expected[i].email_status : 'not_found', ''], `row ${i + 2}: the email went`);
    assert.equal(out[3], `paused: ${PAUSED}`, `row ${i + 2}: its personal email waits, and the next run asks again`);
  });
  assert.ok(sheet.getRange('I2:I121').getValues().every((r) => String(r[0]).startsWith('failed: ') && r[0].endsWith(PAUSED)));
  gas.typeFormula('Leads', 'K2', '=PRONTO_PERSONAL_EMAIL(A2, B2, C2, D2)');
  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, PAUSED, 'the row\'s message, as the cell\'s error: never a value');
  const again = gas.call('getSidebarPlan', {types: ['email', 'personal_email']});
  assert.deepEqual([again.choices.sheet.estimate.toEnrich, again.choices.sheet.estimate.filled], [120, 0],
      'every row still needs its personal email');

  const stats = await noConsent.simulatorStats();
  assert.equal(gas.enrichRequests().length, 4, 'three chunks and the formula');
  assert.equal(stats.consent_refusals, 1, 'one refused call, then personal emails paused for the minute');
  assert.deepEqual([stats.by_type.email, stats.by_type.personal_email], [120, 0]);
});
