'use strict';
// Header detection and contact building, in the shared Apps Script scope (no servers).
const assert = require('node:assert/strict');
const {test} = require('node:test');
const {AppsScript} = require('../support/apps_script');

const gas = new AppsScript();
const detect = (headers) => JSON.parse(JSON.stringify(gas.global('detectColumns_')(headers)));
const build = (fields) => JSON.parse(JSON.stringify(gas.global('buildContact_')(fields)));

test('headers are matched whatever the case, accents, spaces or punctuation, in English or French', () => {
  assert.deepEqual(detect(['Prénom', 'NOM', 'Société', 'Site web', 'Profil LinkedIn']),
      {first: 0, last: 1, full: -1, company: 2, domain: 3, linkedin: 4});
  assert.deepEqual(detect(['given_name', 'Surname', 'Organisation', 'Company Website', 'LinkedIn URL']),
      {first: 0, last: 1, full: -1, company: 2, domain: 3, linkedin: 4});
  assert.deepEqual(detect(['Nom complet', 'Entreprise', 'URL']),
      {first: -1, last: -1, full: 0, company: 1, domain: 2, linkedin: -1});
  assert.deepEqual(detect(['Name', 'Company name', 'Domain', 'Profile']),
      {first: -1, last: -1, full: 0, company: 1, domain: 2, linkedin: 3});
  assert.deepEqual(detect(['Notes', 'Amount']),
      {first: -1, last: -1, full: -1, company: -1, domain: -1, linkedin: -1});
});

test('the output columns already present are found and reused', () => {
  const outputs = JSON.parse(JSON.stringify(gas.global('findOutputColumns_')(
      ['First name', 'E-mail', 'Email Status', 'Téléphone', 'phone status', 'Pronto status'])));
  assert.deepEqual(outputs, {email: 1, emailStatus: 2, phone: -1, phoneStatus: 4, status: 5});
});

test('a full name is split, a website is reduced to its domain, and a company name in the website column is used as the company', () => {
  assert.deepEqual(build({full: 'Marie  Curie-Skłodowska', domain: 'https://www.Radium.fr/labo'}).contact,
      {firstname: 'Marie', lastname: 'Curie-Skłodowska', domain: 'radium.fr'});
  assert.deepEqual(build({full: 'Curie, Marie', companyOrDomain: 'Institut du Radium'}).contact,
      {firstname: 'Marie', lastname: 'Curie', company_name: 'Institut du Radium'});
  assert.deepEqual(build({first: 'Ada', last: 'Lovelace', domain: 'Analytical Engines Ltd'}).contact,
      {firstname: 'Ada', lastname: 'Lovelace', company_name: 'Analytical Engines Ltd'});
  assert.deepEqual(build({first: 'Ada', last: 'Lovelace', companyOrDomain: 'Acme Inc.'}).contact,
      {firstname: 'Ada', lastname: 'Lovelace', company_name: 'Acme Inc.'});
  assert.equal(build({first: 'Ada', last: '', companyOrDomain: 'acme.io'}).invalidReason, 'Add the last name to this row.');
  assert.equal(build({first: '', last: '', companyOrDomain: ''}).blank, true);
});

test('two rows describing the same person the same way share one key', () => {
  const key = (fields) => build(fields).key;
  assert.equal(key({first: ' ADA ', last: 'lovelace', domain: 'https://www.Acme.io/about'}),
      key({first: 'Ada', last: 'Lovelace', domain: 'acme.io'}));
  assert.notEqual(key({first: 'Ada', last: 'Lovelace', domain: 'acme.io'}),
      key({first: 'Ada', last: 'Lovelace', domain: 'acme.com'}));
});

test('the enrichment types are one list: ids, labels and the words formulas accept come from it, and unknown types are dropped', () => {
  const ids = JSON.parse(JSON.stringify(gas.global('enrichmentTypeIds_')()));
  assert.deepEqual(ids, ['email', 'phone']);
  const checked = (types) => JSON.parse(JSON.stringify(gas.global('checkedTypes_')(types)));
  assert.deepEqual(checked(['phone', 'fax', 'email']), ['email', 'phone'], 'in the list\'s order, unknown ones dropped');
  assert.throws(() => gas.global('checkedTypes_')(['fax']), {message: 'Tick at least one of Email or Phone to look something up: nothing was sent.'});
  const parse = (text) => JSON.parse(JSON.stringify(gas.global('parseTypes_')(text)));
  assert.deepEqual(parse('Phones; E-mail'), ['email', 'phone']);
  assert.deepEqual(parse(''), ['email', 'phone']);
  assert.equal(gas.global('typesInWords_')(['email', 'phone']), 'email and phone');
});

test('a phone cell holds every number; its status cell, Pronto\'s verdict and each number\'s type', () => {
  const phones = [{number: '+33612345678', type: 'mobile'}, {number: '+33145678901', type: null}];
  const result = {status: 'success', phones, phone_status: 'valid'};
  assert.equal(gas.global('phoneNumbers_')(result), '+33612345678, +33145678901');
  assert.equal(gas.global('phoneStatusText_')(result), 'valid (mobile, unknown type)');
  assert.equal(gas.global('phoneStatusText_')({...result, phones: [{number: '+1', type: null}]}), 'valid');
});
