'use strict';
// The Settings and Schedule dialogs in headless Chromium at their real sizes, google.script.run
// bridged to the Apps Script code. Each state is saved to docs/ and checked with axe-core.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript, DEFAULT_USER} = require('../support/apps_script');
const {launchChromium, openShownPage, snapshot} = require('../support/browser');
const {person} = require('../support/data');
const {startStack} = require('../support/servers');

const BOB = 'bob@example.com';
const BAD_TOKEN = 'The access token is not valid. Copy the current token into Pronto ▸ Settings.';

let stack;
let browser;

before(async () => {
  [stack, browser] = await Promise.all([startStack({sheets: true}), launchChromium()]);
});

after(async () => {
  await Promise.all([stack && stack.stop(), browser && browser.close()]);
});

const text = (page, selector) => page.textContent(selector).then((value) => value.trim());
const saysMessage = (page, expected) => page.waitForFunction((wanted) => document.getElementById('message').textContent === wanted, expected);

test('Settings: the URL and a token for me or for everyone, never shown back; Test connection checks what is typed; a token can be cleared', async () => {
  const gas = new AppsScript({sheets: {Leads: [['First name', 'Last name', 'Company']]}});
  const {page} = await openShownPage(browser, gas, 'showSettingsDialog');
  await page.waitForFunction(() => document.getElementById('tokens').textContent !== '');
  assert.equal(await text(page, '#tokens'), 'No token yet: formulas need a shared one.');
  await snapshot(page, 'settings-empty');

  await page.fill('#url', 'https://pronto.example.com');
  await page.fill('#token', 'anything');
  await page.click('#test');
  await page.waitForFunction(() => document.getElementById('message').className === 'error');
  assert.match(await text(page, '#message'), /^The function URL in Pronto ▸ Settings is not usable\. The add-in may only call the Pronto function it was deployed with/);
  await snapshot(page, 'settings-error');

  await page.fill('#url', `${stack.functionUrl}/enrich`);
  await page.fill('#token', 'typed-wrong');
  await page.click('#test');
  await page.waitForFunction(() => document.getElementById('message').className === 'error');
  assert.equal(await text(page, '#message'), BAD_TOKEN, 'Test connection tried what was typed, before saving');

  await page.fill('#token', stack.token);
  await page.check('#scope-shared');
  await page.click('#save');
  await saysMessage(page, 'Saved.');
  assert.equal(await page.inputValue('#url'), stack.functionUrl);
  assert.equal(await page.inputValue('#token'), '', 'the token is never sent back to the page');
  assert.equal(gas.documentProperties.getProperty('PRONTO_FUNCTION_TOKEN'), stack.token);
  await page.fill('#token', 'my-own-secret');
  await page.check('#scope-personal');
  await page.click('#save');
  await saysMessage(page, 'Saved.');
  assert.equal(gas.userProperties(DEFAULT_USER).getProperty('PRONTO_FUNCTION_TOKEN'), 'my-own-secret');
  assert.match(await text(page, '#tokens'), /^Your own token is set \(person@example\.com\): only you can read it\. Clear my token\s*A shared token is set: every editor of this spreadsheet can read it\. Clear the shared token$/);

  await page.click('#clear-personal');
  await saysMessage(page, 'Your own token is cleared.');
  await page.click('#test');
  await page.waitForFunction(() => document.getElementById('message').textContent.startsWith('Connected'));
  assert.match(await text(page, '#message'), /^Connected: http:\/\/127\.0\.0\.1:\d+ accepts the shared token\. Credits spent today: \d+ of 10,000,000\.$/);
  assert.equal(gas.enrichRequests().length, 0, 'testing looked nobody up');
  await snapshot(page, 'settings-connected');
  await page.close();
});

function scheduledSpreadsheet() {
  const rows = [0, 2, 4].map((i) => person(i, 'dialog')).map((p) => [p.first, p.last, p.companyOrDomain, '']);
  const header = ['First name', 'Last name', 'Company website', 'Email'];
  return new AppsScript({
    sheets: {Leads: [header, ...rows], Archive: [header]},
    timeZone: 'Europe/Paris',
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
}

test('Schedule: one per spreadsheet in its time zone, with the trigger quota shown; Run now and the log of runs with counts', async () => {
  await stack.resetSimulator();
  const gas = scheduledSpreadsheet();
  await stack.createSpreadsheet(gas.spreadsheet.getId(), {Leads: gas.sheet('Leads').dump(), Archive: gas.sheet('Archive').dump()}, true);
  const {page} = await openShownPage(browser, gas, 'showScheduleDialog');
  await page.waitForFunction(() => document.getElementById('sheet').options.length === 2);
  assert.equal(await text(page, '#current'), 'No refresh scheduled.');
  assert.equal(await text(page, '#time-zone'), '(Europe/Paris, the spreadsheet\'s time zone)');
  assert.match(await text(page, '#quota'), /^Trigger time: Google gives a Google account 90 minutes a day \(6 hours with Google Workspace\); this choice uses at most 4 and the Pronto timer keeps 15 for its own checks\.$/);
  assert.ok(await page.$$eval('input[type=radio], input[type=checkbox]', (inputs) => inputs.every((input) =>
    input.closest('fieldset') && input.closest('fieldset').querySelector('legend'))), 'every group has a fieldset and a legend');
  await snapshot(page, 'schedule-none');

  await page.check('#frequency-daily');
  await page.selectOption('#hour', '7');
  await page.check('#type-phone');
  await page.click('#save');
  await saysMessage(page, 'Saved.');
  await page.click('#save');
  await saysMessage(page, 'Saved.');
  assert.match(await text(page, '#current'), /^Scheduled by you: "Leads", every day at 07:00, next run \w{3} \d\d 07:00 (CET|CEST)\.$/);
  assert.equal(gas.triggers.length, 1, 'saving twice still leaves one trigger');

  await page.click('#run-now');
  await saysMessage(page, 'Ran once: see Recent runs.');
  assert.match(await text(page, '#log'), /^\w{3} \d\d \d\d:\d\d · run now · person@example\.com: Filled by the Pronto function\. — \d+ found, \d+ not found, 3 need a LinkedIn URL$/,
      'phones were ticked, and this sheet has no LinkedIn column');
  assert.match(await text(page, '#timer'), /^Pronto timer: yours, every minute; \d+ of 90 trigger minutes used in the last day\.$/);
  await snapshot(page, 'schedule-mine');
  await page.close();
});

test('Schedule seen by another editor: whose it is, read-only, with Pause and Run now; errors shown as errors', async () => {
  const gas = scheduledSpreadsheet();
  gas.callAs(DEFAULT_USER, 'saveSchedule', {sheetName: 'Leads', frequency: 'every6h', types: ['email']});
  gas.spreadsheet.sheets = gas.spreadsheet.sheets.filter((sheet) => sheet.getName() !== 'Leads');
  gas.advance(60000);
  const {page} = await openShownPage(browser, gas, 'showScheduleDialog', null, BOB);
  await page.waitForFunction(() => document.getElementById('current').textContent !== '');

  assert.match(await text(page, '#current'), /^Scheduled by person@example\.com: "Leads", every 6 hours, next run /);
  assert.equal(await text(page, '#owner-note'), 'Only person@example.com can change or remove it; you can pause it or run it now.');
  assert.equal(await page.isDisabled('#save'), true);
  assert.equal(await page.isDisabled('#remove'), true);
  assert.equal(await page.isEnabled('#pause'), true);
  assert.equal(await page.getAttribute('#log li', 'class'), 'error', 'a failed run reads as an error');
  assert.match(await text(page, '#log li'), /The scheduled sheet "Leads" was deleted: choose a sheet again in Pronto ▸ Schedule refresh….$/);
  assert.deepEqual(gas.triggersOf(BOB), [], 'opening the dialog gave Bob no trigger');
  await snapshot(page, 'schedule-other-owner');

  await page.click('#pause');
  await saysMessage(page, 'Paused.');
  assert.match(await text(page, '#current'), /\(paused\)\.$/);
  await page.close();
});

test('Schedule: a sheet without usable columns is refused with the whole sentence, readable in the dialog', async () => {
  const gas = new AppsScript({sheets: {Notes: [['Topic', 'Owner']]}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl}});
  const {page} = await openShownPage(browser, gas, 'showScheduleDialog');
  await page.waitForFunction(() => document.getElementById('sheet').options.length === 1);

  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').className === 'error');

  const message = await text(page, '#message');
  assert.match(message, /^Pronto needs a first name and a last name column .* pick them in Pronto ▸ Enrich selected rows \(the schedule uses the columns picked there for this sheet\)\.$/);
  const box = await page.$eval('#message', (element) => {
    const rect = element.getBoundingClientRect();
    return {bottom: rect.bottom, right: rect.right, scrollWidth: element.scrollWidth, clientWidth: element.clientWidth};
  });
  assert.ok(box.scrollWidth <= box.clientWidth, 'the sentence wraps instead of being cut');
  assert.ok(box.right <= 460, 'inside the dialog\'s width');
  await snapshot(page, 'schedule-error');
  await page.close();
});
