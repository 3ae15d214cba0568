'use strict';
// The Settings and Schedule dialogs in headless Chromium, google.script.run bridged to the Apps Script code.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {launchChromium, openShownPage} = require('../support/browser');
const {startStack} = require('../support/servers');

let stack;
let browser;

before(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
});

after(async () => {
  await Promise.all([stack && stack.stop(), browser && browser.close()]);
});

test('Settings saves the URL and token, never shows the token back, and Test connection answers in a sentence', async () => {
  const gas = new AppsScript({sheets: {Leads: [['First name', 'Last name', 'Company']]}});
  const {page} = await openShownPage(browser, gas, 'showSettingsDialog', {width: 460, height: 360});
  await page.waitForFunction(() => document.getElementById('token-source').textContent !== '');
  assert.equal(await page.textContent('#token-source'), 'No token yet: formulas need one.');

  await page.fill('#url', 'http://example.com/pronto');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').className === 'error');
  assert.match(await page.textContent('#message'), /^The function URL must start with https:\/\//);

  await page.fill('#url', `${stack.functionUrl}/enrich`);
  await page.fill('#token', stack.token);
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').textContent === 'Saved.');
  assert.equal(await page.inputValue('#url'), stack.functionUrl);
  assert.equal(await page.inputValue('#token'), '', 'the token is never sent back to the page');
  assert.equal(gas.documentProperties.getProperty('PRONTO_FUNCTION_TOKEN'), stack.token);

  await page.click('#test');
  await page.waitForFunction(() => document.getElementById('message').textContent.startsWith('Connected'));
  assert.match(await page.textContent('#message'), /^Connected: the function answers and a test lookup came back "(success|not_found)"\./);
  await page.close();
});

test('the Schedule dialog installs one trigger for the chosen sheet and removes it', async () => {
  const header = [['First name', 'Last name', 'Company']];
  const gas = new AppsScript({sheets: {Leads: header, Archive: header}, documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl}});
  const {page} = await openShownPage(browser, gas, 'showScheduleDialog', {width: 420, height: 380});
  await page.waitForFunction(() => document.getElementById('sheet').options.length === 2);
  assert.equal(await page.textContent('#current'), 'No refresh scheduled.');

  await page.selectOption('#sheet', 'Archive');
  await page.check('input[value=daily]');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').textContent === 'Saved.');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('message').textContent === 'Saved.');

  assert.equal(await page.textContent('#current'), 'Scheduled: "Archive", every day.');
  assert.equal(gas.scriptApp.triggers.length, 1, 'saving twice still leaves one trigger');

  await page.click('#remove');
  await page.waitForFunction(() => document.getElementById('message').textContent === 'Schedule removed.');
  assert.equal(await page.textContent('#current'), 'No refresh scheduled.');
  assert.equal(gas.scriptApp.triggers.length, 0);
  await page.close();
});
