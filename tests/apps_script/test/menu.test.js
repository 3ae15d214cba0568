'use strict';
// The add-on menu, its dialogs, "Fill this sheet on the server" and "Freeze formulas to values".
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
const {people, person} = require('../support/data');
const {startStack} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack({sheets: true});
});

after(async () => {
  if (stack) await stack.stop();
});

const HEADER = ['Prénom', 'NOM', 'Company Website', 'Email'];

/** Six rows: one already filled, one missing its last name, the last repeating the fifth. */
function sixRows() {
  const rows = Array.from({length: 6}, (unused, i) => {
    const p = person(i, 'menu');
    return [p.first, p.last, p.companyOrDomain, ''];
  });
  rows[1][3] = 'known@example.com';
  rows[3][1] = '';
  rows[5] = rows[4].slice();
  return rows;
}

test('opening the spreadsheet adds the add-on menu under Extensions, and every item runs an existing function', () => {
  const gas = new AppsScript();

  const opened = gas.open('LIMITED');

  assert.equal(opened.error, null);
  const [menu] = gas.spreadsheet.ui.menus;
  assert.equal(menu.addon, true, 'createAddonMenu: Extensions ▸ <name>');
  assert.deepEqual(menu.items.map((item) => item.label || '—'), [
    'Enrich selected rows…', 'Fill this sheet on the server', 'Refresh pending cells', 'Freeze formulas to values', '—',
    'Schedule refresh…', 'Settings…', 'Forget a person…',
  ]);
  menu.items.filter((item) => item.functionName).forEach((item) => {
    assert.equal(typeof gas.global(item.functionName), 'function', item.functionName);
  });
  assert.equal(gas.triggers.length, 0, 'onOpen is a simple trigger: it cannot create triggers, and does not try');
});

test('as an add-on not yet used in this spreadsheet (AuthMode.NONE), onOpen only adds menu items', () => {
  const gas = new AppsScript({addon: true});

  const opened = gas.open('NONE');

  assert.equal(opened.error, null, 'it touched no property, cache or trigger (they throw in AuthMode.NONE)');
  assert.equal(gas.spreadsheet.ui.menus[0].caption, 'Pronto enrichment');
  assert.equal(gas.spreadsheet.ui.menus[0].items.length, 8);
});

test('installing the add-on adds the menu at once and starts the Pronto timer (hourly: the most an add-on gets)', () => {
  const gas = new AppsScript({addon: true});

  const installed = gas.install();

  assert.equal(installed.error, null);
  assert.equal(gas.spreadsheet.ui.menus.length, 1);
  assert.deepEqual(gas.triggersOf(DEFAULT_USER).map((t) => [t.spec.functionName, t.spec.everyMinutes, t.spec.everyHours]),
      [['onProntoTimer', null, 1]]);
  assert.equal(gas.call('getScheduleView').timer.everyMinutes, 60);
});

/**
 * What keeps a manifest from being an Editor add-on's: an `addOns` block (it configures
 * card-based Workspace add-ons, workspace/add-ons/concepts/editor-manifests), a wildcard
 * or a non-https entry in urlFetchWhitelist (any editor could then send the sheet's
 * contacts and the shared token to any address), or a scope wider than it needs.
 * @param {Object} manifest appsscript.json.
 * @return {Array<string>} The problems, in words.
 */
function manifestProblems(manifest) {
  const problems = [];
  if ('addOns' in manifest) problems.push('an addOns block (card-based Workspace add-ons only)');
  (manifest.urlFetchWhitelist || []).forEach((prefix) => {
    if (prefix.includes('*')) problems.push(`a wildcard in urlFetchWhitelist: ${prefix}`);
    if (!/^https:\/\/[^/*]+\/.*\/$/.test(prefix) && !/^https:\/\/[^/*]+\/$/.test(prefix)) {
      problems.push(`not an https URL prefix ending with "/": ${prefix}`);
    }
  });
  if (!Array.isArray(manifest.urlFetchWhitelist)) problems.push('no urlFetchWhitelist: every address allowed');
  (manifest.oauthScopes || []).filter((scope) => /\/auth\/(spreadsheets|drive)$/.test(scope))
      .forEach((scope) => problems.push(`a scope wider than this spreadsheet: ${scope}`));
  return problems;
}

test('the manifest is an Editor add-on\'s: no addOns block, no URL allowed but the deployed function\'s, narrow scopes', () => {
  const gas = new AppsScript();

  assert.deepEqual(manifestProblems(gas.manifest), []);
  assert.deepEqual(gas.manifest.urlFetchWhitelist, [], 'deploy.sh writes the one deployed URL when it pushes');
  assert.ok(gas.manifest.oauthScopes.includes('https://www.googleapis.com/auth/spreadsheets.currentonly'));
});

test('a wildcard in urlFetchWhitelist fails the manifest check, and so do the old entries', () => {
  const deployed = {urlFetchWhitelist: ['https://europe-west1-acme.cloudfunctions.net/pronto/'], oauthScopes: []};
  assert.deepEqual(manifestProblems(deployed), []);
  assert.deepEqual(manifestProblems({urlFetchWhitelist: ['https://*.run.app/'], oauthScopes: []}),
      ['a wildcard in urlFetchWhitelist: https://*.run.app/', 'not an https URL prefix ending with "/": https://*.run.app/']);
  assert.deepEqual(manifestProblems({urlFetchWhitelist: ['https://*.cloudfunctions.net/'], addOns: {common: {}}, oauthScopes: []}), [
    'an addOns block (card-based Workspace add-ons only)', 'a wildcard in urlFetchWhitelist: https://*.cloudfunctions.net/',
    'not an https URL prefix ending with "/": https://*.cloudfunctions.net/',
  ]);
});

test('the menu opens the sidebar and the two dialogs from their HTML files', () => {
  const gas = new AppsScript();

  gas.call('showEnrichSidebar');
  gas.call('showSettingsDialog');
  gas.call('showScheduleDialog');

  const shown = gas.spreadsheet.ui.shown;
  assert.deepEqual(shown.map((s) => [s.kind, s.html.getTitle() || s.title]), [
    ['sidebar', 'Pronto enrichment'], ['modal', 'Pronto settings'], ['modal', 'Schedule refresh'],
  ]);
  assert.match(shown[0].html.getContent(), /<button type="button" id="start"/);
  assert.match(shown[1].html.getContent(), /Test connection/);
  assert.match(shown[2].html.getContent(), /Save schedule/);
  shown.forEach((page) => assert.match(page.html.getContent(), /<link rel="stylesheet" href="https:\/\/ssl\.gstatic\.com\/docs\/script\/css\/add-ons1\.css">/));
  const shared = gas.context.HtmlService.createHtmlOutputFromFile('Shared').getContent();
  shown.forEach((s) => {
    const page = s.html.getContent();
    assert.equal(page.split(shared).length, 2, `${s.title || s.html.getTitle()}: the shared head is printed once`);
    assert.ok(page.indexOf(shared) < page.indexOf('</head>'), 'inside <head>');
    assert.equal(page.includes('<?'), false, 'no scriptlet is left in the page');
  });
});

test('Freeze formulas to values replaces PRONTO formulas and their spill by values, and leaves other formulas', async () => {
  const leads = people(6, 'freeze');
  const gas = new AppsScript({
    sheets: {Leads: [['First name', 'Last name', 'Company'], ...leads.map((p) => [p.first, p.last, p.companyOrDomain])]},
    scriptProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
  gas.typeFormula('Leads', 'E2', '=PRONTO_ENRICH(A2:A7, B2:B7, C2:C7, , "email")');
  gas.recalculate('Leads');
  gas.typeFormula('Leads', 'J2', '=A2&" "&B2');
  const sheet = gas.sheet('Leads');
  const computed = sheet.getRange('E2:G7').getValues();
  gas.select('Leads', 'E2:J2');

  const message = gas.call('freezeFormulasInSelection');

  assert.equal(message, 'Froze 1 Pronto formula(s) (18 cells) to values: they will not recalculate or spend credits again.');
  assert.deepEqual(sheet.getRange('E2:G7').getValues(), computed.map(([email, status, row]) => [email, status, row.split(':')[0]]),
      'answers stay; the Pronto status keeps its code');
  assert.ok(computed.some((row) => row[2].startsWith('not_found: ')), 'a row Pronto found nothing for is among them');
  assert.deepEqual(sheet.getRange('E2:G7').getFormulas().flat().filter(Boolean), []);
  assert.equal(sheet.getRange('J2').getFormula(), '=A2&" "&B2');
  const fetchesBefore = gas.fetches.length;
  gas.recalculate('Leads');
  assert.equal(gas.fetches.length, fetchesBefore, 'frozen values never recalculate');
  assert.deepEqual(gas.spreadsheet.toasts.map((t) => t.message), [message]);
});

test('Fill this sheet on the server shows the plan, asks, then reports what the function did', async () => {
  await stack.resetSimulator();
  const rows = sixRows();
  const gas = new AppsScript({sheets: {Leads: [HEADER, ...rows]}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);

  const message = gas.call('fillSheetOnServer');

  assert.deepEqual(gas.fetches.map((f) => JSON.parse(f.payload)), [
    {dry_run: true, spreadsheet_id: gas.spreadsheet.getId(), sheet: 'Leads'},
    {spreadsheet_id: gas.spreadsheet.getId(), sheet: 'Leads'},
  ]);
  const [plan, done] = gas.spreadsheet.ui.alerts;
  assert.equal(plan.prompt, '6 rows: 3 people to look up, 1 already filled, 1 duplicates, 1 invalid; at most 9 credits. Start?');
  assert.equal(plan.buttons, 'YES_NO');
  const summary = JSON.parse(gas.fetches[1].body);
  assert.equal(message, `Done: ${summary.found} found, ${summary.not_found} not found, 1 invalid, 0 failed; ${summary.credits} credits spent.`);
  assert.equal(summary.found + summary.not_found, 4, 'three people, one of them on two rows');
  assert.equal(done.prompt, message);
  assert.equal((await stack.simulatorStats()).served, 3);
});

test('answering No to the plan spends nothing', async () => {
  await stack.resetSimulator();
  const rows = sixRows();
  const gas = new AppsScript({sheets: {Leads: [HEADER, ...rows]}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, true);
  gas.spreadsheet.ui.alertAnswers.push('NO');

  assert.equal(gas.call('fillSheetOnServer'), 'Nothing was changed.');
  assert.equal(gas.fetches.length, 1, 'only the dry run');
  assert.equal((await stack.simulatorStats()).calls, 0);
});

test('Fill this sheet on the server on a sheet not shared with the function says to share it, or to use the sidebar', async () => {
  const rows = sixRows();
  const gas = new AppsScript({sheets: {Leads: [HEADER, ...rows]}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token}});
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: [HEADER, ...rows]}, false);

  const message = gas.call('fillSheetOnServer');

  const refusal = JSON.parse(gas.fetches[0].body).error;
  assert.equal(refusal.code, 'sheet_not_shared');
  assert.match(refusal.message, /^Share the spreadsheet with .+ as an editor/);
  assert.equal(message, `${refusal.message} Or use Pronto ▸ Enrich selected rows, which works without sharing.`);
  assert.equal(gas.spreadsheet.ui.alerts.length, 1);
  assert.equal(gas.fetches.length, 1, 'nothing more after the refusal');
});
