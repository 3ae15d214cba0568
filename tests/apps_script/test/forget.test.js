'use strict';
// Extensions ▸ Pronto enrichment ▸ Forget a person…: the dialog, and the erasure it asks of
// the function served on 127.0.0.1 (POST /forget), checked on the simulated Pronto's count.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {people, person} = require('../support/data');
const {startStack, simulatedOutcomes} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  if (stack) await stack.stop();
});

/** The spreadsheet set up with the function's URL and the shared token. */
function configured() {
  return new AppsScript({documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});
}

/** Asks the function directly (as a formula would), returning its results. */
async function enrich(contacts) {
  const response = await fetch(`${stack.functionUrl}/enrich`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', Authorization: `Bearer ${stack.token}`},
    body: JSON.stringify({contacts}),
  });
  assert.equal(response.status, 200);
  return (await response.json()).results;
}

/** How many lookups the simulated Pronto has answered. */
async function lookups() {
  return (await stack.simulatorStats()).calls;
}

test('the menu opens the Forget dialog, which says the add-in\'s own cache lasts 6 hours at most', () => {
  const gas = configured();
  gas.open('LIMITED');
  const labels = gas.spreadsheet.ui.menus[0].items.map((item) => item.label);
  assert.ok(labels.includes('Forget a person…'));

  gas.call('showForgetDialog');

  const [shown] = gas.spreadsheet.ui.shown;
  assert.equal(shown.title, 'Forget a person');
  const page = shown.html.getContent();
  assert.match(page, /keeps answers in Apps Script's cache\s+for at most 6 hours/);
  assert.match(page, /<button type="button" class="action" id="forget">Forget<\/button>/);
  assert.equal(page.includes('<?'), false, 'no scriptlet is left in the page');
});

test('forgetting by the email found deletes the person on the function: the next lookup asks Pronto again', async () => {
  const [ada, bob] = people(2, 'forget').map((p) => p.contact);
  const [adaEmail] = simulatedOutcomes([ada]).map((o) => o.email);
  assert.ok(adaEmail, 'the simulated Pronto finds an email for her');
  await enrich([ada, bob]);
  const before = await lookups();
  const gas = configured();

  const said = gas.call('forgetPerson', {email: adaEmail});

  assert.equal(said, 'Forgotten: 1 stored answer deleted; looking this person up again asks Pronto (and costs ' +
      'credits) again. This add-in also keeps answers in Apps Script\'s cache for at most 6 hours (Google\'s ' +
      'limit); they disappear by then on their own. Cells already written in your sheets stay: delete them yourself.');
  const [last] = gas.fetches.slice(-1);
  assert.ok(last.url.endsWith('/forget'));
  assert.deepEqual(JSON.parse(last.payload), {email: adaEmail});
  const again = await enrich([ada, bob]);
  assert.equal(await lookups(), before + 1, 'she was looked up again, he was still known');
  assert.deepEqual(again.map((r) => r.cached), [false, true]);
});

test('a person never looked up: nothing to delete, said plainly', () => {
  const p = person(99, 'never');
  const said = configured().call('forgetPerson', {firstname: p.first, lastname: p.last, domain: 'never.example.com'});
  assert.match(said, /^Nothing was kept about this person: there was nothing to delete\. /);
});

test('a form that names nobody is refused before any call, saying what to type', () => {
  const gas = configured();
  const result = gas.execute('script', 'forgetPerson', [{firstname: 'Ada'}]);
  assert.equal(result.error, 'Type the person\'s email or phone number, their LinkedIn URL, or their first and last ' +
      'name with their company\'s website (domain).');
  assert.equal(gas.fetches.length, 0);
});
