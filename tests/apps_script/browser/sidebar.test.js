'use strict';
// The sidebar in headless Chromium at its real 300 px width, google.script.run bridged to the
// Apps Script code, against the served function. Each state is saved to docs/ and checked with axe-core.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {launchChromium, openShownPage, snapshot} = require('../support/browser');
const {person} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');
const {waitFor} = require('../support/wait');

const HEADER = ['First name', 'Last name', 'Company or website', 'Email'];
const KEPT = 'known@example.com';
const BAD_TOKEN = 'The access token is not valid. Copy the current token into Pronto ▸ Settings.';

let stack;
let poorStack;
let browser;

before(async () => {
  [stack, poorStack, browser] = await Promise.all([
    startStack({rate: 250}),
    startStack({rate: 250, functionEnv: {PRONTO_DAILY_CREDIT_BUDGET: '30'}}),
    launchChromium(),
  ]);
});

after(async () => {
  await Promise.all([stack && stack.stop(), poorStack && poorStack.stop(), browser && browser.close()]);
});

/**
 * 500 rows: every 25th repeats the person 12 rows above, every 50th lacks a last
 * name, every 100th already has an email.
 */
function fiveHundredRows(tag) {
  return Array.from({length: 500}, (unused, i) => {
    const p = person(i % 25 === 24 ? i - 12 : i, tag);
    return [p.first, i % 50 === 7 ? '' : p.last, p.companyOrDomain, i % 100 === 3 ? KEPT : ''];
  });
}

function contactOf(row) {
  const [firstname, lastname, site] = row;
  return site.includes('.') ? {firstname, lastname, domain: site} : {firstname, lastname, company_name: site};
}

function spreadsheetWith(rows, target = stack, token = target.token) {
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: target.functionUrl, PRONTO_FUNCTION_TOKEN: token},
  });
  gas.select('Leads', `A2:D${rows.length + 1}`);
  return gas;
}

const text = (page, selector) => page.textContent(selector).then((value) => value.trim());

/** Records every value the progress bar shows. */
async function watchProgress(page) {
  await page.evaluate(() => {
    window.__progress = [];
    const bar = document.getElementById('progress-bar');
    new MutationObserver(() => window.__progress.push(Number(bar.getAttribute('aria-valuenow'))))
        .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
  });
}

test('the sidebar estimates the selection and the whole sheet, its button says which it enriches, and pressing it fills every row on its own row up to 100%', async () => {
  await stack.resetSimulator();
  const rows = fiveHundredRows('browser');
  const gas = spreadsheetWith(rows);
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');

  await page.waitForFunction(() => document.getElementById('est-rows').textContent !== '–');
  const estimate = await page.evaluate(() => Object.fromEntries(
      ['rows', 'filled', 'duplicates', 'invalid', 'needsLinkedin', 'toEnrich', 'credits'].map((name) => [name, document.getElementById(`est-${name}`).textContent])));
  assert.deepEqual(estimate, {rows: '500', filled: '5', duplicates: '20', invalid: '10', needsLinkedin: '0', toEnrich: '465', credits: '1,395'});
  assert.equal(await page.isChecked('#scope-selection'), true);
  assert.equal(await text(page, '#scope-selection-detail'), 'A2:D501 · 500 rows');
  assert.equal(await text(page, '#scope-sheet-detail'), 'rows 2–501 · 500 rows');
  assert.match(await text(page, '#connection'), /^Connected: http:\/\/127\.0\.0\.1:\d+ accepts the shared token\./);
  assert.equal(await page.inputValue('#map-domain'), '2', '"Company or website" holds domains and company names');
  assert.deepEqual(await page.$$eval('#types input', (inputs) => inputs.map((input) => [input.id, input.checked])),
      [['type-email', true], ['type-phone', false], ['type-personal_email', false]], 'one checkbox per enrichment type');
  assert.equal(await text(page, 'label:has(#type-phone)'), 'Phone (needs a LinkedIn column)', 'the sheet has no LinkedIn column');
  assert.equal(await page.isEnabled('#start'), true);
  // The button says what it does, as the menu item does: never a bare "Start".
  assert.equal(await text(page, '#start'), 'Enrich selected rows');
  await page.check('#scope-sheet');
  assert.equal(await text(page, '#start'), 'Enrich whole sheet');
  await page.check('#scope-selection');
  await page.waitForFunction(() => document.getElementById('start').textContent === 'Enrich selected rows' &&
      !document.getElementById('start').disabled);
  assert.equal(gas.enrichRequests().length, 0, 'nothing spent before the button is pressed');
  assert.equal(await page.getAttribute('#progress-bar', 'aria-label'), 'Enrichment progress');
  assert.deepEqual([await page.getAttribute('#summary', 'role'), await page.getAttribute('#summary', 'aria-live')], ['status', 'polite']);
  assert.deepEqual(await page.$$eval('input[type=radio], input[type=checkbox]', (inputs) => inputs.map((input) => {
    const legend = input.closest('fieldset') && input.closest('fieldset').querySelector('legend');
    return legend ? legend.textContent : null;
  })), ['Rows', 'Rows', 'Find', 'Find', 'Find'], 'every radio and checkbox group has a fieldset and a legend');
  await snapshot(page, 'sidebar-estimate');

  await watchProgress(page);
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'), null, {timeout: 120000});

  const progress = await page.evaluate(() => window.__progress);
  assert.deepEqual(progress.filter((value, i) => value !== progress[i - 1]), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuetext'), '500 of 500 rows');
  const expected = simulatedOutcomes(rows.map(contactOf));
  const found = expected.filter((o, i) => rows[i][1] && rows[i][3] !== KEPT && o.email).length;
  const paid = new Set(rows.filter((row, i) => row[1] && row[3] !== KEPT && expected[i].email).map((row) => row.join('|'))).size;
  assert.equal(await text(page, '#summary'), `Done: 500 rows. ${found} found · ${485 - found} not found · 10 invalid (see Pronto status) · 5 already filled · 20 duplicates (paid once). Credits spent today: ${(paid * 3).toLocaleString('en-US')} of 10,000,000.`);
  assert.deepEqual(gas.sheet('Leads').getRange('E1:F1').getValues()[0], ['Email status', 'Pronto status'], 'the columns of the type asked');
  const out = gas.sheet('Leads').getRange('D2:F501').getValues();
  rows.forEach((row, i) => {
    if (row[3] === KEPT) assert.deepEqual(out[i], [KEPT, '', ''], `row ${i + 2} untouched`);
    else if (!row[1]) assert.deepEqual(out[i], ['', '', 'invalid: Add the last name to this row.'], `row ${i + 2}`);
    else assert.equal(out[i][0], expected[i].email || '', `row ${i + 2}`);
  });
  assert.equal((await stack.simulatorStats()).served, 465, 'each distinct person paid once');
  // After the run the estimate says what is left, and nothing is.
  await page.waitForFunction(() => document.getElementById('est-toEnrich').textContent === '0');
  assert.equal(await text(page, '#estimate-title'), 'Left to do');
  assert.equal(await page.isDisabled('#start'), true);
  assert.equal(await text(page, '#start-reason'), 'Nothing to look up in these rows.');
  await snapshot(page, 'sidebar-done');
  await page.close();
});

test('while a chunk waits for Pronto the sidebar shows it is working, and the pickers are locked', async () => {
  const gas = spreadsheetWith(fiveHundredRows('busy').slice(0, 60));
  const {page, hold} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => !document.getElementById('start').disabled);
  const chunk = hold('stepRun');

  await page.click('#start');
  await chunk.reached;
  await page.waitForFunction(() => /^Waiting for Pronto… [1-9]\d* s$/.test(document.getElementById('activity').textContent));

  assert.equal(await page.isVisible('#activity'), true);
  assert.equal(await page.isDisabled('#map-firstname'), true);
  assert.equal(await page.isDisabled('#type-phone'), true);
  assert.equal(await page.isDisabled('#scope-sheet'), true);
  assert.equal(await page.isDisabled('#start'), true);
  assert.equal(await page.isEnabled('#cancel'), true);
  await snapshot(page, 'sidebar-running');
  chunk.release();
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'), null, {timeout: 60000});
  assert.equal(await page.isHidden('#activity'), true);
  assert.equal(await page.isEnabled('#map-firstname'), true, 'unlocked once the run is over');
  await page.close();
});

test('with no type ticked Start is disabled and says why', async () => {
  const gas = spreadsheetWith(fiveHundredRows('notype').slice(0, 20));
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => !document.getElementById('start').disabled);

  await page.uncheck('#type-email');
  await page.waitForFunction(() => document.getElementById('est-credits').textContent === '0');

  assert.equal(await page.isDisabled('#start'), true);
  assert.equal(await text(page, '#start-reason'), 'Tick what to find: Email, Phone or Personal email.');
  await snapshot(page, 'sidebar-no-type');
  await page.click('#start', {force: true});
  assert.equal(gas.fetches.filter((f) => f.url.endsWith('/fill') || f.url.endsWith('/enrich')).length, 1, 'only the settings check');
  await page.close();
});

test('a wrong token is reported when the sidebar opens, once, with a link to Settings; Start stays disabled', async () => {
  const gas = spreadsheetWith(fiveHundredRows('badtoken').slice(0, 20), stack, 'stale-token');
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');

  await page.waitForSelector('#error:not([hidden])');

  assert.equal(await text(page, '#error-text'), BAD_TOKEN);
  assert.equal(await page.isVisible('#open-settings'), true);
  assert.equal(await page.isDisabled('#start'), true);
  assert.equal(await text(page, '#start-reason'), 'Fix the settings first (see above).');
  assert.equal((await page.textContent('body')).split(BAD_TOKEN).length, 2, 'the sentence appears once');
  await snapshot(page, 'sidebar-bad-settings');
  await page.click('#open-settings');
  await waitFor(() => gas.spreadsheet.ui.shown.at(-1).title === 'Pronto settings', {what: 'the link to open the Settings dialog'});
  assert.equal(gas.enrichRequests().length, 0);
  await page.close();
});

test('over the credit budget the sidebar stops after one chunk and says how many rows wait for tomorrow', async () => {
  const rows = fiveHundredRows('budget').slice(0, 150).map((row) => [row[0], row[1] || 'Last', row[2], '']);
  const gas = spreadsheetWith(rows, poorStack);
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => !document.getElementById('start').disabled);

  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Stopped'), null, {timeout: 60000});

  const run = gas.call('getRunView');
  assert.equal(gas.enrichRequests().length, 1);
  const summary = await text(page, '#summary');
  assert.ok(summary.startsWith(`Stopped after 50 of 150 rows. ${run.counts.found} found · ${run.counts.notFound} not found · ${run.counts.overBudget} over the credit budget`), summary);
  assert.ok(summary.includes(`${run.waitingForTomorrow} rows wait for tomorrow.`), summary);
  assert.equal(await page.isDisabled('#start'), true, 'no Start again with the budget used up');
  assert.equal(await text(page, '#start-reason'), 'The daily credit budget is used up: start again tomorrow (rows already done are not paid again).');
  assert.equal(await page.isHidden('#error'), true, 'said once, in the summary, not again as an error');
  await snapshot(page, 'sidebar-over-budget');
  await page.close();
});

test('closing the sidebar mid-run: the run goes on, and the sidebar opened again shows it finished', async () => {
  await stack.resetSimulator();
  const rows = fiveHundredRows('reopen');
  const gas = spreadsheetWith(rows);
  const first = await openShownPage(browser, gas, 'showEnrichSidebar');
  await first.page.waitForFunction(() => !document.getElementById('start').disabled);
  await first.page.click('#start');
  await first.page.waitForFunction(() => Number(document.getElementById('progress-bar').getAttribute('aria-valuenow')) >= 10);

  await first.page.close();
  const ticks = gas.advance(10 * 60000);

  assert.ok(ticks.some((tick) => /chunk/.test(tick.value)), 'the Pronto timer went on with the run');
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'));
  assert.match(await text(page, '#summary'), /^Done: 500 rows\. \d+ found · \d+ not found · 10 invalid/);
  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuenow'), '100');
  assert.equal((await stack.simulatorStats()).served, 465, 'each person paid once, by the page or the timer');
  await snapshot(page, 'sidebar-reopened-done');
  await page.close();
});

test('a run the Pronto timer is moving shows as going on in the background', async () => {
  const rows = fiveHundredRows('background').slice(0, 120);
  const gas = spreadsheetWith(rows);
  const plan = gas.call('getSidebarPlan', {types: ['email']});
  const run = gas.call('startRun', {sheetName: 'Leads', scope: 'sheet', firstRow: 2, lastRow: 121, mapping: plan.mapping, types: ['email']});
  gas.call('stepRun', run.id);
  // The timer holds the run (it is sending a chunk) when the person opens the sidebar.
  const saved = JSON.parse(gas.documentProperties.getProperty('PRONTO_RUN'));
  gas.documentProperties.setProperty('PRONTO_RUN', JSON.stringify({...saved, leaseBy: 'timer', leaseUntil: gas.clock.now() + 120000, driver: 'timer'}));

  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Going on in the background'));

  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuenow'), '42');
  assert.equal(await page.isDisabled('#start'), true);
  await snapshot(page, 'sidebar-background');
  await page.close();
});

test('Cancel stops after the chunk being sent and keeps the rows already done', async () => {
  await stack.resetSimulator();
  const rows = fiveHundredRows('cancel');
  const gas = spreadsheetWith(rows);
  const {page, hold} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => !document.getElementById('start').disabled);
  const firstChunk = hold('stepRun');
  await page.click('#start');
  await firstChunk.reached;
  const secondChunk = hold('stepRun');
  firstChunk.release();
  await secondChunk.reached;

  // The first chunk is written; the page is about to send the second: the person cancels.
  await page.click('#cancel');
  await page.waitForFunction(() => / · cancelling after this chunk…$/.test(document.getElementById('progress-text').textContent));
  secondChunk.release();
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Cancelled'), null, {timeout: 60000});

  assert.match(await text(page, '#summary'), /^Cancelled after 50 of 500 rows; the rows done are kept\./);
  assert.equal(gas.enrichRequests().length, 1, 'no chunk was sent after Cancel');
  const statuses = gas.sheet('Leads').getRange('F2:F501').getValues().map((r) => r[0]);
  rows.forEach((row, i) => {
    if (row[3] === KEPT) return;
    if (i < 50) assert.notEqual(statuses[i], '', `row ${i + 2} was done and is kept`);
    else assert.equal(statuses[i], '', `row ${i + 2} was not started`);
  });
  assert.equal(await page.isEnabled('#start'), true, 'Start again goes on with the rest');
  await snapshot(page, 'sidebar-cancelled');
  await page.close();
});

test('personal emails without Pronto\'s consent: the sidebar says so once, above the rows, naming Pronto\'s settings; emails go on', async () => {
  await stack.resetSimulator();
  await stack.configureSimulator({personal_email_consent: false});
  try {
    const rows = fiveHundredRows('consent').slice(0, 40).map((row, i) => [row[0], row[1] || 'Last', row[2], '',
      i % 4 === 3 ? '' : `https://www.linkedin.com/in/consent-${i}`]);
    const gas = new AppsScript({
      sheets: {Leads: [[...HEADER.slice(0, 3), 'Email', 'LinkedIn'], ...rows]},
      documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
    });
    const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
    await page.waitForFunction(() => !document.getElementById('start').disabled);
    await page.check('#type-personal_email');
    await page.waitForFunction(() => document.getElementById('est-needsLinkedin').textContent === '10');
    assert.equal(await text(page, 'label:has(#type-personal_email)'), 'Personal email (rows with a LinkedIn URL)');
    assert.equal(await text(page, '#est-credits'), (40 * 3 + 30 * 30).toLocaleString('en-US'));

    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'), null, {timeout: 60000});

    assert.equal(await text(page, '#notice'), 'Pronto refuses personal email lookups for this account until its owner accepts the terms for personal email enrichment in Pronto\'s account settings (app.prontohq.com, Settings). Personal emails wait until then; emails and phones go on.');
    assert.match(await text(page, '#summary'), /^Done: 40 rows\. \d+ found · \d+ not found · 10 need a LinkedIn URL · 30 waiting for consent\./);
    assert.equal((await page.textContent('body')).split('accepts the terms').length, 2, 'said once');
    assert.equal((await stack.simulatorStats()).consent_refusals, 1);
    await snapshot(page, 'sidebar-consent');
    await page.close();
  } finally {
    await stack.configureSimulator({personal_email_consent: true});
  }
});
