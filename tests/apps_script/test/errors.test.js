'use strict';
// Settings and failures: tokens (personal, shared, admin), checks that spend nothing, and
// every failure reaching the person as a sentence saying what to do (and where).
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
const {people} = require('../support/data');
const {freePort, startStack} = require('../support/servers');

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
const MAPPING = {firstname: 0, lastname: 1, full_name: -1, company_name: 2, domain: -1, linkedin_url: -1};

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

/** Starts a run on the three rows and sends its first chunk, as the sidebar does. */
function runOnce(gas) {
  const started = gas.execute('script', 'startRun', [{sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 4, types: ['email'], mapping: MAPPING}]);
  if (started.error) return {error: started.error};
  return gas.execute('script', 'stepRun', [started.value.id]);
}

test('with no function URL, the formula, the sidebar and Test connection all say to set it in Settings', () => {
  const gas = leadsSheet({});

  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, NO_URL);
  assert.equal(gas.sheet('Leads').value('J2'), '#ERROR!');
  const check = gas.call('getSidebarPlan', {check: true}).connection;
  assert.deepEqual([check.ok, check.message, check.fix], [false, NO_URL, 'settings'], 'the sidebar says so once, when it opens');
  const run = runOnce(gas).value;
  assert.deepEqual([run.status, run.error], ['failed', {message: NO_URL, fix: 'settings'}]);
  assert.equal(gas.execute('script', 'testConnection', [{}]).error, NO_URL);
  assert.equal(gas.fetches.length, 0);
});

test('a wrong access token is refused with the function\'s sentence, in a formula and in a run, and costs nothing', async () => {
  await stack.resetSimulator();
  const gas = leadsSheet({PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: 'stale-token'});

  const [formula] = gas.recalculate('Leads');

  assert.equal(formula.error, BAD_TOKEN);
  assert.deepEqual(runOnce(gas).value.error, {message: BAD_TOKEN, fix: 'settings'});
  assert.deepEqual(gas.fetches.map((f) => f.status), [401, 401, 401], 'the formula, the dry run of /fill, the chunk');
  assert.equal((await stack.simulatorStats()).calls, 0);
});

test('without a token the sidebar sends the person\'s Google ID token, and its refusal is explained', () => {
  const gas = leadsSheet({PRONTO_FUNCTION_URL: stack.functionUrl}, {identityToken: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'}, false);

  const check = gas.call('getSidebarPlan', {check: true}).connection;

  assert.equal(gas.fetches[0].headers.Authorization, 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln');
  assert.equal(gas.fetches[0].status, 401);
  assert.deepEqual([check.ok, check.message], [false, BAD_TOKEN], 'this function accepts no Google sign-in, so it asks for a token');
});

test('a Pronto key the API rejects reaches the person as a sentence naming what the admin must fix', () => {
  const gas = leadsSheet({PRONTO_FUNCTION_URL: rejectedKeyStack.functionUrl, PRONTO_FUNCTION_TOKEN: rejectedKeyStack.token});

  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, KEY_REJECTED);

  const rows = leadsSheet({PRONTO_FUNCTION_URL: rejectedKeyStack.functionUrl, PRONTO_FUNCTION_TOKEN: rejectedKeyStack.token}, {}, false);
  const run = runOnce(rows).value;
  assert.deepEqual([run.status, run.error, run.counts.failed], ['stopped', {message: KEY_REJECTED, fix: ''}, 3]);
  const sheet = rows.sheet('Leads');
  const failed = 'failed: The Pronto API key was rejected. Ask your admin to check PRONTO_API_KEY where the function runs.';
  assert.deepEqual(sheet.getRange('D1:F1').getValues()[0], ['Email', 'Email status', 'Pronto status']);
  assert.deepEqual(sheet.getRange('D2:F4').getValues(), Array(3).fill(['', failed, failed]), 'no email invented: the sentence is in the status cells');
});

test('a function URL where nothing answers says to check the URL', async () => {
  const port = await freePort();
  const gas = leadsSheet({PRONTO_FUNCTION_URL: `http://127.0.0.1:${port}`, PRONTO_FUNCTION_TOKEN: 'x'});

  const [formula] = gas.recalculate('Leads');

  assert.equal(formula.error, `Could not reach the Pronto function at http://127.0.0.1:${port}. Check the URL in Pronto ▸ Settings, then try again in a minute.`);
});

test('a URL other than the deployed function\'s is refused by the manifest, and the sentence says so (not "could not reach")', () => {
  const gas = leadsSheet({PRONTO_FUNCTION_URL: 'https://pronto.example.com', PRONTO_FUNCTION_TOKEN: 'x'});
  // What deploy.sh pushes: the deployed function's URL, and nothing else.
  gas.manifest.urlFetchWhitelist.push('https://europe-west1-acme.cloudfunctions.net/pronto/');
  const sentence = 'The add-in may only call the Pronto function it was deployed with (the urlFetchWhitelist of its ' +
    'appsscript.json, which deploy.sh writes), and https://pronto.example.com is not it. Use the URL deploy.sh printed, ' +
    'or ask your admin to deploy the add-in again for this address.';

  const [formula] = gas.recalculate('Leads');
  assert.equal(formula.error, `The function URL in Pronto ▸ Settings is not usable. ${sentence}`);
  assert.equal(gas.execute('script', 'testConnection', [{url: 'https://evil.cloudfunctions.net/x', token: 't'}]).error,
      'The function URL in Pronto ▸ Settings is not usable. ' + sentence.replace('https://pronto.example.com', 'https://evil.cloudfunctions.net/x'));
  const check = gas.call('getSidebarPlan', {check: true}).connection;
  assert.deepEqual([check.ok, check.fix], [false, 'settings']);
  assert.equal(gas.fetches.length, 0, 'Apps Script refused each call before it left');
});

test('Test connection checks what is typed, not what is saved, and spends nothing', async () => {
  await stack.resetSimulator();
  const gas = new AppsScript({sheets: {Leads: [['First name']]}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});

  assert.equal(gas.execute('script', 'testConnection', [{url: stack.functionUrl, token: 'typed-wrong'}]).error, BAD_TOKEN);
  const answer = gas.call('testConnection', {url: `${stack.functionUrl}/healthz`, token: ''});

  assert.equal(answer, `Connected: ${stack.functionUrl} accepts the shared token. Credits spent today: 0 of 10,000,000.`);
  assert.deepEqual(gas.fetches.map((f) => [f.url.replace(stack.functionUrl, ''), f.headers.Authorization || null]), [
    ['/enrich', 'Bearer typed-wrong'], ['/enrich', `Bearer ${stack.token}`], ['/healthz', null],
  ]);
  assert.equal(gas.enrichRequests().length, 0, 'no lookup: the checks send no contact');
  assert.equal((await stack.simulatorStats()).calls, 0);
  assert.equal(gas.documentProperties.getProperty('PRONTO_FUNCTION_TOKEN'), stack.token, 'testing saves nothing');
});

test('a personal token wins over the shared one for the person; formulas keep the shared one; either can be cleared', () => {
  const gas = new AppsScript({sheets: {Leads: [['First name']]}});
  gas.call('saveSettings', {url: stack.functionUrl, token: 'shared-secret', tokenScope: 'shared'});
  const view = gas.call('saveSettings', {url: stack.functionUrl, token: stack.token, tokenScope: 'personal'});

  assert.deepEqual(view, {url: stack.functionUrl, urlSource: 'document', tokens: {personal: true, shared: true, admin: false},
    tokenInUse: 'personal', formulasToken: 'shared', me: DEFAULT_USER});
  assert.equal(gas.userProperties(DEFAULT_USER).getProperty('PRONTO_FUNCTION_TOKEN'), stack.token);
  assert.equal(gas.userProperties('bob@example.com').getProperty('PRONTO_FUNCTION_TOKEN'), null, 'another editor does not get it');
  assert.equal(gas.call('getConfig_').token, stack.token);
  assert.equal(gas.callAs('bob@example.com', 'getConfig_').token, 'shared-secret');
  assert.equal(gas.call('getConfig_', {personal: false}).token, 'shared-secret', 'what formulas use');

  const cleared = gas.call('clearToken', 'personal');
  assert.deepEqual([cleared.tokens, cleared.tokenInUse], [{personal: false, shared: true, admin: false}, 'shared']);
  const none = gas.call('clearToken', 'shared');
  assert.deepEqual([none.tokens, none.tokenInUse, none.formulasToken], [{personal: false, shared: false, admin: false}, '', '']);
  assert.throws(() => gas.call('clearToken', 'everyone'), /Say which token to clear/);
});

test('Script Properties set by an admin apply when the spreadsheet has none of its own', () => {
  const gas = new AppsScript({
    sheets: {Leads: [['First name']]},
    scriptProperties: {PRONTO_FUNCTION_URL: 'https://europe-west1-demo.cloudfunctions.net/pronto', PRONTO_FUNCTION_TOKEN: 'admin'},
    documentProperties: {PRONTO_FUNCTION_TOKEN: 'mine'},
  });

  assert.deepEqual(gas.call('getSettings'), {
    url: 'https://europe-west1-demo.cloudfunctions.net/pronto', urlSource: 'script',
    tokens: {personal: false, shared: true, admin: true}, tokenInUse: 'shared', formulasToken: 'shared', me: DEFAULT_USER,
  });
});

test('saving settings starts the Pronto timer once; a plain-http URL is refused', () => {
  const gas = new AppsScript({sheets: {Leads: [['First name']]}});

  assert.equal(gas.execute('script', 'saveSettings', [{url: 'http://example.com/pronto', token: 't'}]).error,
      'The function URL must start with https:// — copy it from the deployment output (for example https://europe-west1-my-project.cloudfunctions.net/pronto).');
  gas.call('saveSettings', {url: stack.functionUrl, token: 't'});
  gas.call('saveSettings', {url: stack.functionUrl, token: 't'});

  assert.deepEqual(gas.triggers.map((t) => [t.owner, t.spec.functionName, t.spec.everyMinutes]), [[DEFAULT_USER, 'onProntoTimer', 1]]);
});
