'use strict';
// =PRONTO_EMAIL / =PRONTO_PHONE / =PRONTO_ENRICH against the served function and the simulator.
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

/** The Phone status cell of a simulated outcome: Pronto's own word, or not_found. */
function phoneStatus(o) {
  return o.phones.length ? 'valid' : 'not_found';
}

/** The Pronto status cell of a row whose types all got an answer. */
function prontoStatus(found) {
  return found ? 'success' : `not_found: ${NOT_FOUND}`;
}

const NOT_FOUND = 'No email or phone found for this profile.';

/** A spreadsheet whose script properties point at the served function. */
function sheetWith(rows, extra = {}) {
  return new AppsScript({
    sheets: {Leads: [['First name', 'Last name', 'Company or website', 'LinkedIn'], ...rows]},
    scriptProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
    ...extra,
  });
}

test('=PRONTO_EMAIL over 200 rows makes one /enrich call whose 200 answers land in row order', async () => {
  await stack.resetSimulator();
  const leads = people(200, 'order');
  const gas = sheetWith(leads.map((p) => [p.first, p.last, p.companyOrDomain]));
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A201, B2:B201, C2:C201)');

  const [outcome] = gas.recalculate('Leads');

  assert.equal(outcome.error, null);
  const calls = gas.enrichRequests();
  assert.equal(calls.length, 1, 'one /enrich call for the whole range');
  const sent = JSON.parse(calls[0].payload);
  assert.equal(sent.contacts.length, 200);
  assert.equal(sent.priority, 'interactive');
  assert.equal(sent.timeout_s, 20, 'the function is told to answer by 20 s, well inside the 30 s Sheets gives a formula');
  assert.deepEqual(sent.enrichment_type, ['email']);
  assert.equal(calls[0].headers.Authorization, `Bearer ${stack.token}`);
  const stats = await stack.simulatorStats();
  assert.equal(stats.served, 200, 'Pronto answered 200 lookups');
  assert.equal(Object.keys(stats.by_contact).length, 200);
  assert.deepEqual(new Set(Object.values(stats.by_contact)), new Set([1]), 'each person looked up once');
  const expected = simulatedOutcomes(leads.map((p) => p.contact)).map((o) => o.email || '');
  const column = gas.sheet('Leads').getRange('E2:E201').getValues().map((row) => row[0]);
  assert.deepEqual(column, expected);
  const found = expected.filter(Boolean).length;
  assert.ok(found > 100 && found < 200, `a realistic mix of found and not found (${found} found)`);
  assert.equal(gas.sheet('Leads').value('E2'), expected[0]);
  assert.equal(gas.sheet('Leads').value('E201'), expected[199]);
});

test('recalculating the same formula makes no /enrich call and no call reaches Pronto', async () => {
  await stack.resetSimulator();
  const leads = people(200, 'recalc');
  const gas = sheetWith(leads.map((p) => [p.first, p.last, p.companyOrDomain]));
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A201, B2:B201, C2:C201)');
  gas.recalculate('Leads');
  const before = gas.sheet('Leads').getRange('E2:E201').getValues();
  const callsBefore = (await stack.simulatorStats()).calls;

  const [again] = gas.recalculate('Leads', {force: true});

  assert.equal(again.error, null);
  assert.equal(gas.enrichRequests().length, 1, 'the second calculation was answered from CacheService');
  assert.equal((await stack.simulatorStats()).calls, callsBefore);
  assert.deepEqual(gas.sheet('Leads').getRange('E2:E201').getValues(), before);

  // Even with Apps Script's cache gone (it keeps ~1,000 items for 6 h), the function's cache answers.
  gas.documentCache.items.clear();
  gas.recalculate('Leads', {force: true});
  assert.equal(gas.enrichRequests().length, 2);
  assert.equal((await stack.simulatorStats()).calls, callsBefore, 'still no call reached Pronto');
  assert.deepEqual(gas.sheet('Leads').getRange('E2:E201').getValues(), before);
});

test('PRONTO_EMAIL on single cells returns one value; a blank row stays empty, a row missing details shows #ERROR! with what to add, never a sentence as its value', async () => {
  await stack.resetSimulator();
  const [ada, bob] = people(2, 'single');
  const gas = sheetWith([
    [ada.first, ada.last, ada.companyOrDomain],
    ['', '', ''],
    ['Marie', '', 'acme.io'],
    [bob.first, bob.last, ''],
  ]);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');
  gas.typeFormula('Leads', 'E3', '=PRONTO_EMAIL(A3, B3, C3)');
  gas.typeFormula('Leads', 'E4', '=PRONTO_EMAIL(A4, B4, C4)');
  gas.typeFormula('Leads', 'E5', '=PRONTO_EMAIL(A5, B5, C5)');

  const outcomes = gas.recalculate('Leads');

  const [expected] = simulatedOutcomes([ada.contact]);
  assert.deepEqual(outcomes.map((o) => [o.value === undefined ? null : o.value, o.error]), [
    [expected.email || '', null], ['', null], [null, 'Add the last name to this row.'],
    [null, 'Add a company name, a company website or a LinkedIn URL to this row.'],
  ]);
  assert.deepEqual(['E4', 'E5'].map((a1) => gas.sheet('Leads').value(a1)), ['#ERROR!', '#ERROR!']);
  assert.equal(gas.enrichRequests().length, 1, 'only the complete row was sent');
  assert.equal((await stack.simulatorStats()).served, 1);
});

test('PRONTO_PHONE keeps the + of the number and PRONTO_ENRICH spills each type\'s value and status, then the Pronto status, per row', async () => {
  await stack.resetSimulator();
  const leads = people(40, 'phone');
  const gas = sheetWith(leads.map((p) => [p.first, p.last, p.companyOrDomain, p.linkedin]));
  gas.typeFormula('Leads', 'E2', '=PRONTO_PHONE(A2:A41, B2:B41, C2:C41, D2:D41)');
  gas.typeFormula('Leads', 'F2', '=PRONTO_ENRICH(A2:A41, B2:B41, C2:C41, D2:D41)');
  gas.typeFormula('Leads', 'L2', '=PRONTO_ENRICH(A3, B3, C3, D3, "phone")');

  const outcomes = gas.recalculate('Leads');

  assert.deepEqual(outcomes.map((o) => o.error), [null, null, null]);
  const expected = simulatedOutcomes(leads.map((p) => p.withLinkedIn));
  const phones = gas.sheet('Leads').getRange('E2:E41').getValues().map((row) => row[0]);
  assert.deepEqual(phones, expected.map((o) => o.phones.join(', ')));
  assert.ok(phones.some((phone) => phone.startsWith('+336')), 'phones keep their international +');
  const enriched = gas.sheet('Leads').getRange('F2:J41').getValues();
  enriched.forEach((row, i) => {
    const o = expected[i];
    assert.deepEqual(row, [
      o.email || '', o.email ? o.email_status : 'not_found', o.phones.join(', '), phoneStatus(o),
      prontoStatus(Boolean(o.email || o.phones.length)),
    ], `row ${i + 2}`);
  });
  const second = expected[1];
  assert.deepEqual(gas.sheet('Leads').getRange('L2:N2').getValues()[0],
      [second.phones.join(', '), phoneStatus(second), prontoStatus(second.phones.length > 0)],
      'types given in place of the LinkedIn argument: that type\'s two columns, then the Pronto status');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.by_type.email, stats.by_type.phone], [40, 40], 'each person asked once per type');
  assert.equal(stats.refused_without_linkedin, 0);
});

test('without a LinkedIn URL a phone is never asked: a single cell says what to add, a range leaves the cell empty and PRONTO_ENRICH\'s status says it; the email still goes', async () => {
  await stack.resetSimulator();
  const leads = people(3, 'nolinkedin');
  const gas = sheetWith(leads.map((p, i) => [p.first, p.last, p.companyOrDomain, i === 0 ? p.linkedin : '']));
  gas.typeFormula('Leads', 'E2', '=PRONTO_PHONE(A3, B3, C3, D3)');
  gas.typeFormula('Leads', 'F2', '=PRONTO_PHONE(A2:A4, B2:B4, C2:C4, D2:D4)');
  gas.typeFormula('Leads', 'G2', '=PRONTO_ENRICH(A2:A4, B2:B4, C2:C4, D2:D4)');
  gas.typeFormula('Leads', 'M2', '=PRONTO_PHONE(A2, B2, C2)');

  const [single, range, enrich, noArgument] = gas.recalculate('Leads');

  assert.equal(single.error, 'Add a LinkedIn URL to look up a phone.');
  assert.equal(range.error, null);
  const expected = simulatedOutcomes([leads[0].withLinkedIn, leads[1].contact, leads[2].contact]);
  assert.deepEqual(gas.sheet('Leads').getRange('F2:F4').getValues().map((r) => r[0]), [expected[0].phones.join(', '), '', '']);
  assert.equal(enrich.error, null);
  const rows = gas.sheet('Leads').getRange('G3:K4').getValues();
  rows.forEach((row, i) => {
    const o = expected[i + 1];
    assert.deepEqual(row, [o.email || '', o.email ? o.email_status : 'not_found', '',
      'needs_linkedin: Add a LinkedIn URL to look up a phone.',
      `${o.email ? 'success' : `not_found: ${NOT_FOUND}`} Add a LinkedIn URL to look up a phone.`.replace('success ', 'success: ')], `row ${i + 3}`);
  });
  assert.equal(noArgument.error, 'PRONTO_PHONE needs the LinkedIn profile URL as its fourth argument: Pronto looks up phones only with one, for example =PRONTO_PHONE(A2, B2, C2, D2).');
  const stats = await stack.simulatorStats();
  assert.deepEqual([stats.refused_without_linkedin, stats.by_type.phone, stats.by_type.email], [0, 1, 3]);
});

test('ranges of different sizes are refused with a sentence saying how to fix the formula', () => {
  const gas = sheetWith(people(3, 'size').map((p) => [p.first, p.last, p.companyOrDomain]));
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A4, B2:B3, C2:C4)');

  const [outcome] = gas.recalculate('Leads');

  assert.equal(outcome.error, 'first has 3 row(s) but last has 2: give every range the same number of rows.');
  assert.equal(gas.sheet('Leads').value('E2'), '#ERROR!');
  assert.equal(gas.enrichRequests().length, 0);
});

test('a contact whose cache key would pass 250 characters is cached under a digest', async () => {
  await stack.resetSimulator();
  const longCompany = `Compagnie Générale des ${'Très Longues Raisons Sociales '.repeat(10)}`.trim();
  const gas = sheetWith([['Ada', 'Lovelace', longCompany]]);
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2, B2, C2)');

  gas.recalculate('Leads');
  gas.recalculate('Leads', {force: true});

  const keys = [...gas.documentCache.items.keys()].filter((key) => key.startsWith('pronto2'));
  assert.equal(keys.length, 1);
  assert.ok(keys[0].length <= 250 && keys[0].startsWith('pronto2#'), keys[0]);
  assert.equal(gas.enrichRequests().length, 1, 'the second calculation came from the cache');
  const [expected] = simulatedOutcomes([{firstname: 'Ada', lastname: 'Lovelace', company_name: longCompany}]);
  assert.equal(gas.sheet('Leads').value('E2'), expected.email || '');
});

test('a typo in PRONTO_ENRICH\'s types is refused with a sentence, never sent as a LinkedIn URL; a real LinkedIn URL still is one', async () => {
  await stack.resetSimulator();
  const [ada] = people(1, 'typo');
  const gas = sheetWith([[ada.first, ada.last, ada.companyOrDomain, 'https://www.linkedin.com/in/ada-typo']]);
  gas.typeFormula('Leads', 'E2', '=PRONTO_ENRICH(A2, B2, C2, "emial")');
  gas.typeFormula('Leads', 'J2', '=PRONTO_ENRICH(A2, B2, C2, D2, "email")');
  gas.typeFormula('Leads', 'O2', '=PRONTO_ENRICH(A2, B2, C2, "phones + e-mail")');

  const [typo, withProfile, both] = gas.recalculate('Leads');

  assert.equal(typo.error, 'The types argument must be "email", "phone" or "personal_email", or several of them separated by commas, like "email,phone" (you gave "emial").');
  assert.equal(withProfile.error, null);
  assert.equal(both.error, null);
  const sent = gas.enrichRequests().map((request) => JSON.parse(request.payload));
  assert.deepEqual(sent.map((body) => [body.contacts[0].linkedin_url || null, body.enrichment_type]), [
    ['https://www.linkedin.com/in/ada-typo/', ['email']],
    [null, ['email']],
  ], 'the typo sent nothing; no word ever went as a profile; a phone without a profile is never asked');
  assert.equal(gas.sheet('Leads').value('R2'), 'needs_linkedin: Add a LinkedIn URL to look up a phone.');
});

test('a formula never asks for an identity token or writes to the sheet (custom functions cannot)', async () => {
  const leads = people(3, 'noauth');
  const gas = sheetWith(leads.map((p) => [p.first, p.last, p.companyOrDomain]), {identityToken: 'not-for-formulas'});
  gas.scriptProperties.deleteProperty('PRONTO_FUNCTION_TOKEN');
  gas.typeFormula('Leads', 'E2', '=PRONTO_EMAIL(A2:A4, B2:B4, C2:C4)');

  const [outcome] = gas.recalculate('Leads');

  assert.equal(outcome.error, 'Formulas need a token shared with this spreadsheet: in Pronto ▸ Settings, save the token for everyone editing it (ask your admin for the token).');
  assert.equal(gas.fetches.length, 0);

  // The person's own token does not help formulas: they cannot read it.
  gas.userProperties('person@example.com').setProperty('PRONTO_FUNCTION_TOKEN', stack.token);
  const [again] = gas.recalculate('Leads', {force: true});
  assert.equal(again.error, outcome.error);
  assert.equal(gas.fetches.length, 0);
});
