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
