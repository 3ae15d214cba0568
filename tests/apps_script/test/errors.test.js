'use strict';
// Every failure reaches the person as a sentence saying what to do.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people} = require('../support/data');
const {freePort, simulatedOutcomes, startStack} = require('../support/servers');

let stack;
let rejectedKeyStack;

before(async () => {
  [stack, rejectedKeyStack] = await Promise.all([
    startStack(),
    // The function holds a Pronto key the simulator refuses.
    startStack({apiKey: 'not-the-simulator-key'}),
  ]);
});

after(async () => {
  await Promise.all([stack, rejectedKeyStack].filter(Boolean).map((s) => s.stop()));
});

const NO_URL = 'Set the function URL in Pronto ▸ Settings (ask your admin for it).';
const BAD_TOKEN = 'The access token is not valid. Copy the current token into Pronto ▸ Settings.';
const KEY_REJECTED = 'The Pronto lookup failed: The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY where the function runs.';

/** Three people on "Leads"; with `formula`, =PRONTO_EMAIL over them in column J. */
function leadsSheet(properties, options = {}, formula = true) {
  const leads = people(3, 'errors');
  const gas = new AppsScript({
    sheets: {Leads: [['First name', 'Last name', 'Company'], ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]},
    documentProperties: properties,
    ...options,
  });
  if (formula) gas.typeFormula('Leads', 'J2', '=PRONTO_EMAIL(A2:A4, B2:B4, C2:C4)');
  return gas;
}

function chunk(gas) {
  return gas.execute('script', 'enrichSidebarChunk', [{
    sheetName: 'Leads', firstRow: 2, lastRow: 4, types: ['email'],
    mapping: {first: 0, last: 1, full: -1, company: 2, domain: -1, linkedin: -1},
  }]);
}

test('with no function URL, the formula, the sidebar and Test connection all say to set it in Settings', () => {
  const gas = leadsSheet({});

  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, NO_URL);
  assert.equal(gas.sheet('Leads').value('J2'), '#ERROR!');
  assert.equal(chunk(gas).error, NO_URL);
  assert.equal(gas.execute('script', 'testConnection').error, NO_URL);
  gas.select('Leads', 'A2:C4');
  assert.equal(gas.call('getSidebarPlan').warning, NO_URL, 'the sidebar warns before Start');
  assert.equal(gas.fetches.length, 0);
});

test('a wrong access token is refused with the function\'s sentence, in a formula and in the sidebar', async () => {
  await stack.resetSimulator();
  const gas = leadsSheet({PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: 'stale-token'});

  const [formula] = gas.recalculate('Leads');

  assert.equal(formula.error, BAD_TOKEN);
  assert.equal(chunk(gas).error, BAD_TOKEN);
  assert.deepEqual(gas.fetches.map((f) => f.status), [401, 401]);
  assert.equal((await stack.simulatorStats()).calls, 0);
});

test('without a token the sidebar sends the person\'s Google ID token, and its refusal is explained', () => {
  const gas = leadsSheet({PRONTO_FUNCTION_URL: stack.functionUrl}, {identityToken: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'}, false);

  const result = chunk(gas);

  assert.equal(gas.fetches[0].headers.Authorization, 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln');
  assert.equal(gas.fetches[0].status, 401);
  assert.equal(result.error, BAD_TOKEN, 'this function accepts no Google sign-in, so it asks for a token');
});

test('a Pronto key the API rejects reaches the person as a sentence naming what the admin must fix', () => {
  const gas = leadsSheet({PRONTO_FUNCTION_URL: rejectedKeyStack.functionUrl, PRONTO_FUNCTION_TOKEN: rejectedKeyStack.token});

  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, KEY_REJECTED);

  const rows = leadsSheet({PRONTO_FUNCTION_URL: rejectedKeyStack.functionUrl, PRONTO_FUNCTION_TOKEN: rejectedKeyStack.token}, {}, false);
  const sidebar = chunk(rows);
  assert.equal(sidebar.error, null);
  assert.equal(sidebar.value.stop, KEY_REJECTED, 'the sidebar stops and shows the sentence');
  assert.equal(sidebar.value.failed, 3);
  const sheet = rows.sheet('Leads');
  assert.equal(sheet.value('H1'), 'Pronto status');
  assert.deepEqual(sheet.getRange('H2:H4').getValues().map((r) => r[0]),
      Array(3).fill('failed: The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY where the function runs.'));
  assert.deepEqual(sheet.getRange('D2:D4').getValues().map((r) => r[0]), ['', '', ''], 'no email invented');
});

test('a function URL where nothing answers says to check the URL', async () => {
  const port = await freePort();
  const gas = leadsSheet({PRONTO_FUNCTION_URL: `http://127.0.0.1:${port}`, PRONTO_FUNCTION_TOKEN: 'x'});

  const [formula] = gas.recalculate('Leads');

  assert.equal(formula.error, `Could not reach the Pronto function at http://127.0.0.1:${port}. Check the URL in Pronto ▸ Settings, then try again in a minute.`);
});

test('Settings refuses a plain-http URL, keeps the token out of the dialog, and Test connection confirms a working setup', async () => {
  const gas = new AppsScript({sheets: {Leads: [['First name']]}});

  assert.equal(gas.execute('script', 'saveSettings', [{url: 'http://example.com/pronto', token: 't'}]).error,
      'The function URL must start with https:// — copy it from the deployment output (for example https://europe-west1-my-project.cloudfunctions.net/pronto).');
  const saved = gas.call('saveSettings', {url: `${stack.functionUrl}/enrich/`, token: stack.token});
  assert.deepEqual(saved, {url: stack.functionUrl, urlSource: 'document', tokenSet: true, tokenSource: 'document'});
  assert.equal(gas.documentProperties.getProperty('PRONTO_FUNCTION_URL'), stack.functionUrl);

  const answer = gas.call('testConnection');

  const [sample] = simulatedOutcomes([{firstname: 'Mathieu', lastname: 'Brun-Picard', company_name: 'Pronto', domain: 'prontohq.com'}]);
  const status = sample.email ? 'success' : 'not_found';
  assert.equal(answer, `Connected: the function answers and a test lookup came back "${status}". Daily credit budget: 10000000.`);
  assert.deepEqual(gas.fetches.map((f) => f.url), [`${stack.functionUrl}/healthz`, `${stack.functionUrl}/enrich`]);
});

test('Script Properties set by an admin apply when the spreadsheet has none of its own', () => {
  const gas = new AppsScript({
    sheets: {Leads: [['First name']]},
    scriptProperties: {PRONTO_FUNCTION_URL: 'https://europe-west1-demo.cloudfunctions.net/pronto', PRONTO_FUNCTION_TOKEN: 'admin'},
    documentProperties: {PRONTO_FUNCTION_TOKEN: 'mine'},
  });

  assert.deepEqual(gas.call('getSettings'), {
    url: 'https://europe-west1-demo.cloudfunctions.net/pronto', urlSource: 'script', tokenSet: true, tokenSource: 'document',
  });
  assert.deepEqual(gas.manifest.urlFetchWhitelist, ['https://*.cloudfunctions.net/', 'https://*.run.app/']);
});
