'use strict';
// Header detection, contacts, the per-type done rule and output cells, in the shared Apps
// Script scope (no servers), from the one vocabulary. tests/test_parity.py compares all of
// this with the function on 250 shared rows; these are the cases a person reads.
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {AppsScript} = require('../support/apps_script');

const gas = new AppsScript();
const plain = (value) => JSON.parse(JSON.stringify(value));
const call = (name, ...args) => plain(gas.global(name)(...args));
const detect = (rows, overrides) => call('detectColumns_', rows, overrides);
const entry = (fields) => call('contactEntry_', fields, false);

test('headers are matched whatever the case, accents, spaces or punctuation, in English, French, Spanish and German', () => {
  assert.deepEqual(detect([['Prénom', 'NOM', 'Société', 'Site web', 'Profil LinkedIn']]).map.inputs,
      {firstname: 0, lastname: 1, company_name: 2, domain: 3, linkedin_url: 4});
  assert.deepEqual(detect([['Nombre', 'Apellidos', 'Empresa', 'Sitio web', 'Correo electrónico']]).map,
      {headerRow: 0, headers: ['Nombre', 'Apellidos', 'Empresa', 'Sitio web', 'Correo electrónico'],
        inputs: {firstname: 0, lastname: 1, company_name: 2, domain: 3}, outputs: {email: 4}});
  assert.deepEqual(detect([['Vollständiger Name', 'Arbeitgeber', 'LinkedIn-Profil']]).map.inputs,
      {full_name: 0, company_name: 1, linkedin_url: 2});
  assert.deepEqual(detect([['Name', 'Employer', 'Profil']]).map.inputs, {full_name: 0, company_name: 1, linkedin_url: 2},
      '"Employer" is a company and "Profil" a LinkedIn URL, as in the function');
});

test('the header row is the first of the top rows that names people and a way to find them; overrides name a header or a letter', () => {
  const found = detect([['Report Q3'], [], ['First name', 'Last name', 'Website']]);
  assert.deepEqual([found.map.headerRow, found.map.inputs], [2, {firstname: 0, lastname: 1, domain: 2}]);
  const unmapped = detect([['Notes', 'Amount']]);
  assert.deepEqual([unmapped.map, unmapped.missing], [null, [
    'a first name and a last name column (or a full name column)', 'a company, website or LinkedIn column']]);
  assert.deepEqual(detect([['Given', 'Family', 'Web']], {firstname: 'Given', lastname: 'B'}).map.inputs,
      {firstname: 0, lastname: 1, domain: 2});
});

test('the output columns already present are found and reused, in any of the four languages', () => {
  assert.deepEqual(call('findOutputColumns_', ['Prénom', 'Courriel', 'Statut Pronto', 'Teléfono', 'phone status', 'Correo personal']),
      {email: 1, pronto_status: 2, phone: 3, phone_status: 4, personal_email: 5});
});

test('a full name is split, a website is reduced to its domain, a LinkedIn URL to its one spelling, and a company typed as a website is the company', () => {
  const map = detect([['Nom complet', 'Site web', 'LinkedIn']]).map;
  const row = (values) => call('rowContact_', map.inputs, values).contact;
  assert.deepEqual(row(['Marie  Curie-Skłodowska', 'https://www.Radium.fr/labo', 'fr.linkedin.com/in/Marie-C?trk=x']),
      {firstname: 'Marie', lastname: 'Curie-Skłodowska', company_name: '', domain: 'radium.fr', linkedin_url: 'https://www.linkedin.com/in/marie-c/'});
  assert.deepEqual(row(['Curie, Marie', 'Institut du Radium', 'https://www.linkedin.com/company/radium']),
      {firstname: 'Marie', lastname: 'Curie', company_name: 'Institut du Radium', domain: '', linkedin_url: ''},
      'a company page is not a person\'s profile');
  assert.equal(entry({firstname: 'Ada', domain: 'acme.io'}).invalidReason, 'Add the last name to this row.');
  assert.equal(entry({firstname: 'Ada', lastname: 'Lovelace', domain: 'not a domain/'}).invalidReason,
      'Add a company name, a company website or a LinkedIn URL to this row.');
  assert.equal(call('rowContact_', map.inputs, ['', '', '']).blank, true);
});

test('two rows of the same person share one identity: accents, case, spaces and the form of the website do not count', () => {
  const key = (fields) => entry(fields).key;
  assert.equal(key({firstname: ' ZOÉ ', lastname: 'dupont', domain: 'https://www.Acme.io/about'}),
      'v2:["zoe","dupont","","acme.io",""]');
  assert.equal(key({firstname: 'Zoe', lastname: 'Dupont', domain: 'acme.io'}), 'v2:["zoe","dupont","","acme.io",""]');
  assert.notEqual(key({firstname: 'Zoe', lastname: 'Dupont', domain: 'acme.io'}), key({firstname: 'Zoe', lastname: 'Dupont', domain: 'acme.com'}));
});

test('done is per type: an Email cell or an answered Email status makes a row done for email only; needs_linkedin, pending and failed do not', () => {
  const outputs = {email: 0, email_status: 1, phone: 2, phone_status: 3, personal_email: 4, personal_email_status: 5};
  const todo = (row, types = ['email', 'phone', 'personal_email']) => call('typesToDo_', outputs, row, types);
  assert.deepEqual(todo(['ada@acme.io', '', '', '', '', '']), ['phone', 'personal_email']);
  assert.deepEqual(todo(['', 'not_found', '', 'Not_Found: nothing', '', '']), ['personal_email']);
  assert.deepEqual(todo(['', 'pending: Still searching', '', 'needs_linkedin: Add a LinkedIn URL to look up a phone.', '',
    'paused: Personal emails are paused']), ['email', 'phone', 'personal_email']);
  assert.deepEqual(todo(['', 'failed: Pronto did not answer.', '+33612345678', '', '', ''], ['phone']), []);
});

test('a phone without a LinkedIn URL is not asked: its status says what to add, and the email still goes', () => {
  const contact = entry({firstname: 'Ada', lastname: 'Lovelace', domain: 'acme.io'});
  assert.equal(gas.global('canAsk_')(contact.contact, 'email'), true);
  assert.equal(gas.global('canAsk_')(contact.contact, 'phone'), false);
  const items = call('lookupItems_', [{entry: contact, types: ['email', 'phone']}]);
  assert.deepEqual(items.map((item) => item.types), [['email']]);
  const result = call('rowResult_', contact, ['email', 'phone'], {[contact.key]: {email: {status: 'success', value: 'ada@acme.io', phones: [], valueStatus: 'valid', message: null}}});
  assert.deepEqual(call('outputCells_', result), {
    email: 'ada@acme.io', email_status: 'valid', phone_status: 'needs_linkedin: Add a LinkedIn URL to look up a phone.',
    pronto_status: 'success: Add a LinkedIn URL to look up a phone.',
  });
});

test('output cells: every phone in one cell and Pronto\'s status beside it; a sentence never lands in a data cell; a row that cannot be looked up gets only its Pronto status', () => {
  const cells = (raw, doneBefore = []) => call('outputCells_', gas.global('resultFromAnswer_')(raw, Object.keys(raw.types)), doneBefore);
  assert.deepEqual(cells({status: 'success', types: {phone: {status: 'success', message: null}},
    phones: [{number: '+33612345678', type: 'mobile'}, '+15555550100'], phone_status: 'valid'}),
  {phone: '+33612345678, +15555550100', phone_status: 'valid', pronto_status: 'success'});
  assert.deepEqual(cells({status: 'pending', message: 'Still searching.', types: {email: {status: 'pending', message: 'Still searching.'}}}),
      {email_status: 'pending: Still searching.', pronto_status: 'pending: Still searching.'});
  assert.deepEqual(cells({status: 'invalid', message: 'Add the last name to this row.',
    types: {email: {status: 'invalid', message: 'Add the last name to this row.'}}}), {pronto_status: 'invalid: Add the last name to this row.'});
  assert.deepEqual(cells({status: 'failed', message: 'Pronto did not answer.', types: {email: {status: 'failed', message: 'Pronto did not answer.'}}}, ['email']),
      {pronto_status: 'failed: Pronto did not answer.'}, 'an answer already in the sheet is never erased');
});

test('the enrichment types are the vocabulary\'s: ids, labels and the words formulas accept come from it, and unknown types are dropped', () => {
  assert.deepEqual(call('enrichmentTypeIds_'), ['email', 'phone', 'personal_email']);
  assert.deepEqual(call('checkedTypes_', ['phone', 'fax', 'email']), ['email', 'phone'], 'in the vocabulary\'s order, unknown ones dropped');
  assert.throws(() => gas.global('checkedTypes_')(['fax']), {message: 'Tick at least one of Email, Phone or Personal email to look something up: nothing was sent.'});
  const parse = (text) => call('parseTypes_', text);
  assert.deepEqual(parse('Phones; E-mail'), ['email', 'phone']);
  assert.deepEqual(parse('personal email, téléphone'), ['phone', 'personal_email']);
  assert.deepEqual(parse('email phone'), ['email', 'phone']);
  assert.deepEqual(parse('all'), ['email', 'phone', 'personal_email']);
  assert.deepEqual(parse(''), ['email', 'phone']);
  assert.equal(gas.global('typesInWords_')(['email', 'personal_email']), 'email and personal email');
});
