'use strict';
// The sidebar in headless Chromium, google.script.run bridged to the Apps Script code, against the served function.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {launchChromium, openShownPage} = require('../support/browser');
const {person} = require('../support/data');
const {REPO, simulatedOutcomes, startStack} = require('../support/servers');

const SCREENSHOT = path.join(REPO, 'docs', 'sidebar.png');
const HEADER = ['First name', 'Last name', 'Company or website', 'Email'];
const KEPT = 'known@example.com';

let stack;
let browser;

before(async () => {
  [stack, browser] = await Promise.all([startStack({rate: 250}), launchChromium()]);
});

after(async () => {
  await Promise.all([stack && stack.stop(), browser && browser.close()]);
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

function spreadsheetWith(rows) {
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
  });
  gas.select('Leads', 'A2:D501');
  return gas;
}

/** Records every value the progress bar shows. */
async function watchProgress(page) {
  await page.evaluate(() => {
    window.__progress = [];
    const bar = document.getElementById('progress-bar');
    new MutationObserver(() => window.__progress.push(Number(bar.getAttribute('aria-valuenow'))))
        .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
  });
}

test('the sidebar estimates a 500-row selection, and Start fills every row on its own row up to 100%', async () => {
  await stack.resetSimulator();
  const rows = fiveHundredRows('browser');
  const gas = spreadsheetWith(rows);
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');

  await page.waitForFunction(() => document.getElementById('est-rows').textContent !== '–');
  const estimate = await page.evaluate(() => Object.fromEntries(
      ['rows', 'filled', 'duplicates', 'invalid', 'toEnrich', 'credits'].map((name) => [name, document.getElementById(`est-${name}`).textContent])));
  assert.deepEqual(estimate, {rows: '500', filled: '5', duplicates: '20', invalid: '10', toEnrich: '465', credits: '1395'});
  assert.equal(await page.textContent('#selection'), 'Leads · A2:D501 (rows 2–501)');
  assert.equal(await page.inputValue('#map-first'), '0');
  assert.equal(await page.inputValue('#map-domain'), '2', '"Company or website" holds domains and company names');
  assert.equal(await page.inputValue('#map-company'), '-1');
  assert.equal(gas.enrichRequests().length, 0, 'nothing spent before Start');

  await watchProgress(page);
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Done'), null, {timeout: 120000});

  const progress = await page.evaluate(() => window.__progress);
  assert.deepEqual(progress, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuenow'), '100');
  const expected = simulatedOutcomes(rows.map(contactOf));
  const found = expected.filter((o, i) => rows[i][1] && rows[i][3] !== KEPT && o.email).length;
  const summary = await page.textContent('#summary');
  assert.match(summary, new RegExp(`^Done: 500 rows\\. ${found} found, ${485 - found} not found, 10 invalid \\(see Pronto status\\), 5 already filled\\.`));
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:H1').getValues()[0], [...HEADER, 'Email status', 'Phone', 'Phone status', 'Pronto status']);
  const out = sheet.getRange('D2:H501').getValues();
  rows.forEach((row, i) => {
    if (row[3] === KEPT) {
      assert.deepEqual(out[i], [KEPT, '', '', '', ''], `row ${i + 2} untouched`);
    } else if (!row[1]) {
      assert.deepEqual(out[i], ['', '', '', '', 'invalid: Add the last name to this row.'], `row ${i + 2}`);
    } else {
      const o = expected[i];
      assert.deepEqual([out[i][0], out[i][1], out[i][4]], [
        o.email || '', o.email ? o.email_status : 'not_found',
        o.email ? 'success' : 'not_found: No email or phone found for this profile',
      ], `row ${i + 2}`);
    }
  });
  assert.equal(gas.enrichRequests().length, 10, 'one /enrich call per 50-row chunk');
  assert.equal((await stack.simulatorStats()).served, 465, 'each distinct person paid once');
  // After the run the estimate shows nothing left to do.
  await page.waitForFunction(() => document.getElementById('est-toEnrich').textContent === '0');

  fs.mkdirSync(path.dirname(SCREENSHOT), {recursive: true});
  await page.screenshot({path: SCREENSHOT, fullPage: true});
  await page.close();
});

test('Cancel midway stops after the current chunk and keeps the rows already done', async (t) => {
  await stack.resetSimulator();
  const rows = fiveHundredRows('cancel');
  const gas = spreadsheetWith(rows);
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => document.getElementById('est-rows').textContent === '500');
  // The person presses Cancel as soon as the bar first moves (10%: the first chunk is
  // written and the second is on its way).
  await page.evaluate(() => {
    const bar = document.getElementById('progress-bar');
    const observer = new MutationObserver(() => {
      if (Number(bar.getAttribute('aria-valuenow')) >= 10) {
        observer.disconnect();
        document.getElementById('cancel').click();
      }
    });
    observer.observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
  });

  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('summary').textContent.startsWith('Cancelled'), null, {timeout: 60000});

  const summary = await page.textContent('#summary');
  assert.match(summary, /^Cancelled after 100 of 500 rows; the rows done are kept\./);
  const done = 100;
  const chunks = 2;
  assert.equal(gas.enrichRequests().length, chunks, 'no chunk was sent after Cancel');
  const statuses = gas.sheet('Leads').getRange('H2:H501').getValues().map((r) => r[0]);
  rows.forEach((row, i) => {
    if (row[3] === KEPT) return;
    if (i < done) assert.notEqual(statuses[i], '', `row ${i + 2} was done and is kept`);
    else assert.equal(statuses[i], '', `row ${i + 2} was not started`);
  });
  const paid = new Set(rows.slice(0, done).filter((row) => row[1] && row[3] !== KEPT).map((row) => row.slice(0, 3).join('|')));
  assert.equal((await stack.simulatorStats()).served, paid.size);
  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuenow'), String(done / 5));
  t.diagnostic(`cancelled after ${done} of 500 rows (${chunks} chunks)`);
  await page.close();
});

test('an error from the function shows in the sidebar as the sentence, and Start stops', async () => {
  const rows = fiveHundredRows('error').slice(0, 20);
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: 'stale-token'},
  });
  gas.select('Leads', 'A2:D21');
  const {page} = await openShownPage(browser, gas, 'showEnrichSidebar');
  await page.waitForFunction(() => document.getElementById('est-rows').textContent === '20');

  await page.click('#start');
  await page.waitForSelector('#error:not([hidden])');

  assert.equal(await page.textContent('#error'), 'The access token is not valid. Copy the current token into Pronto ▸ Settings.');
  assert.match(await page.textContent('#summary'), /^Stopped after 0 of 20 rows\./);
  assert.equal(gas.enrichRequests().length, 1);
  await page.close();
});
