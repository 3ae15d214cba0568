'use strict';
// The sidebar's server side: the plan (mapping, estimate) and chunks written row by row.
const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const {AppsScript} = require('../support/apps_script');
const {person} = require('../support/data');
const {simulatedOutcomes, startStack} = require('../support/servers');

let stack;

before(async () => {
  stack = await startStack({rate: 250});
});

after(async () => {
  if (stack) await stack.stop();
});

const HEADER = ['Prénom', 'NOM', 'Company Website', 'LinkedIn URL', 'E-mail'];

/**
 * 30 rows: 2 blank, 4 already filled, 2 missing a last name, 3 repeating an
 * earlier person (written differently), the rest distinct.
 */
function messyRows() {
  const rows = [];
  for (let i = 0; i < 30; i++) {
    const p = person(i, 'side');
    rows.push([p.first, p.last, p.companyOrDomain, '', '']);
  }
  rows[5] = ['', '', '', '', ''];
  rows[6] = ['', '', '', '', ''];
  [1, 9, 14, 22].forEach((i) => { rows[i][4] = 'known@example.com'; });
  rows[3][1] = '';
  rows[17][1] = '';
  // The same people as rows 2, 4 and 10, typed differently (case, spaces, a URL for the domain).
  rows[25] = [rows[2][0].toUpperCase(), ` ${rows[2][1]} `, `https://www.${rows[2][2]}/about`, '', ''];
  rows[26] = [rows[4][0], rows[4][1].toLowerCase(), rows[4][2], '', ''];
  rows[27] = [rows[10][0], rows[10][1], rows[10][2].toUpperCase(), '', ''];
  return rows;
}

function sheetWith(rows, options = {}) {
  const gas = new AppsScript({
    sheets: {Leads: [HEADER, ...rows]},
    documentProperties: {PRONTO_FUNCTION_URL: stack.functionUrl, PRONTO_FUNCTION_TOKEN: stack.token},
    ...options,
  });
  gas.sheet('Leads').maxColumns = HEADER.length;
  return gas;
}

test('the plan maps messy French and English headers and estimates before anything is spent', async () => {
  await stack.resetSimulator();
  const gas = sheetWith(messyRows());
  gas.select('Leads', 'A2:E31');

  const plan = gas.call('getSidebarPlan', {types: ['email']});

  assert.deepEqual(plan.mapping, {first: 0, last: 1, full: -1, company: -1, domain: 2, linkedin: 3});
  assert.equal(plan.selection, 'A2:E31');
  assert.deepEqual([plan.firstRow, plan.lastRow, plan.headerRow], [2, 31, 1]);
  assert.deepEqual(plan.estimate, {rows: 28, toEnrich: 19, filled: 4, duplicates: 3, invalid: 2, credits: 57});
  assert.equal(plan.warning, '');
  const both = gas.call('getSidebarPlan', {sheetName: 'Leads', firstRow: 2, lastRow: 31, types: ['email', 'phone']});
  assert.equal(both.estimate.credits, 19 * 33);
  assert.equal(gas.enrichRequests().length, 0, 'planning calls only /healthz');
  assert.equal((await stack.simulatorStats()).calls, 0);
});

test('a chunk writes each result on its own row as plain text, in output columns it adds', async () => {
  await stack.resetSimulator();
  const rows = messyRows();
  const gas = sheetWith(rows);
  gas.select('Leads', 'A2:E31');
  const plan = gas.call('getSidebarPlan', {types: ['email', 'phone']});

  const summary = gas.call('enrichSidebarChunk', {sheetName: 'Leads', firstRow: 2, lastRow: 31, mapping: plan.mapping, types: ['email', 'phone']});

  assert.equal(summary.rows, 28);
  assert.equal(summary.filled, 4);
  assert.equal(summary.invalid, 2);
  assert.equal(summary.duplicates, 3);
  assert.equal(summary.found + summary.notFound, 22, '19 people and their 3 duplicates');
  assert.equal(summary.calls, 1);
  const sheet = gas.sheet('Leads');
  assert.deepEqual(sheet.getRange('A1:I1').getValues()[0], [...HEADER, 'Email status', 'Phone', 'Phone status', 'Pronto status']);
  assert.equal(sheet.getMaxColumns(), 9, 'four columns were added to the sheet');
  const written = sheet.getRange('E2:I31').getValues();
  rows.forEach((row, i) => {
    const out = written[i];
    if (!row[0]) {
      assert.deepEqual(out, ['', '', '', '', ''], `blank row ${i + 2} stays blank`);
    } else if (row[4]) {
      assert.deepEqual(out, ['known@example.com', '', '', '', ''], `filled row ${i + 2} untouched`);
    } else if (!row[1]) {
      assert.deepEqual(out, ['', '', '', '', 'invalid: Add the last name to this row.'], `row ${i + 2}`);
    } else {
      const contact = {firstname: row[0], lastname: row[1], domain: row[2]};
      if (!row[2].includes('.')) {
        delete contact.domain;
        contact.company_name = row[2];
      }
      const [o] = simulatedOutcomes([contact]);
      const found = Boolean(o.email || o.phones.length);
      assert.deepEqual(out, [
        o.email || '', o.email ? o.email_status : 'not_found',
        o.phones[0] || '', o.phones.length ? 'valid' : 'not_found',
        found ? 'success' : 'not_found: No email or phone found for this profile',
      ], `row ${i + 2}`);
    }
  });
  assert.ok(written.some((out) => String(out[2]).startsWith('+33')), 'phones are written as text, with their +');
  assert.equal(sheet.getRange('E2:I31').getFormulas().flat().filter(Boolean).length, 0, 'no formulas written');
  assert.equal((await stack.simulatorStats()).served, 19, 'duplicates were paid once');
});

test('rows moved while Pronto was searching are left alone, then filled correctly by the next chunk', async () => {
  await stack.resetSimulator();
  const rows = Array.from({length: 6}, (unused, i) => {
    const p = person(i, 'moved');
    return [p.first, p.last, p.companyOrDomain, '', ''];
  });
  let gas = null;
  let sorted = false;
  gas = sheetWith(rows, {
    onFetch: (entry) => {
      if (!entry.url.endsWith('/enrich') || sorted) return;
      // The person sorts rows 3 and 4 while the lookup runs.
      sorted = true;
      const sheet = gas.sheet('Leads');
      const swap = sheet.rows[2];
      sheet.rows[2] = sheet.rows[3];
      sheet.rows[3] = swap;
    },
  });
  const mapping = gas.call('getSidebarPlan', {sheetName: 'Leads', firstRow: 2, lastRow: 7}).mapping;

  const first = gas.call('enrichSidebarChunk', {sheetName: 'Leads', firstRow: 2, lastRow: 7, mapping, types: ['email']});

  assert.equal(first.changed, 2);
  const sheet = gas.sheet('Leads');
  assert.equal(sheet.value('I3'), '', 'nothing written on the moved row 3');
  assert.equal(sheet.value('I4'), '', 'nothing written on the moved row 4');

  const second = gas.call('enrichSidebarChunk', {sheetName: 'Leads', firstRow: 2, lastRow: 7, mapping, types: ['email']});

  assert.equal(second.changed, 0);
  assert.equal(second.filled + second.found + second.notFound, 6);
  for (const rowNumber of [3, 4]) {
    const [first, last, site] = sheet.getRange(`A${rowNumber}:C${rowNumber}`).getValues()[0];
    const [o] = simulatedOutcomes([site.includes('.') ? {firstname: first, lastname: last, domain: site} : {firstname: first, lastname: last, company_name: site}]);
    assert.equal(sheet.value(`E${rowNumber}`), o.email || '', `row ${rowNumber} has its own person's email`);
  }
});

test('values that Sheets would turn into formulas or numbers are written so they stay text', () => {
  const gas = sheetWith([]);
  const plainText = gas.global('plainText_');
  const sheet = gas.sheet('Leads');
  sheet.maxColumns = 26;
  const values = ['=HYPERLINK("http://x","y")', '+33612345678', '0612345678', '@handle', '-5', 'ada@acme.io', "'quoted"];

  sheet.getRange(2, 1, 1, values.length).setValues([values.map((value) => plainText(value))]);

  assert.deepEqual(sheet.getRange(2, 1, 1, values.length).getValues()[0], values);
  assert.deepEqual(sheet.getRange(2, 1, 1, values.length).getFormulas()[0], values.map(() => ''));
});
