'use strict';
/**
 * The Apps Script side of the parity report (tests/test_parity.py compares it with
 * tests/support/parity.py's python_report): the real apps_script/*.js files, loaded into
 * one vm context as the Node tests load them (support/apps_script.js), judge the shared
 * fixtures with the add-in's own functions — header detection, contacts, identities,
 * invalid reasons, the per-type done rule, what can be asked, output cells — and the
 * report is printed as JSON.
 *
 *   node tests/apps_script/support/parity.js tests/data/parity/fixtures.json
 */
const fs = require('node:fs');
const {AppsScript} = require('./apps_script');

/** A value out of the vm's realm, as plain JSON data. */
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

/** Keys in sorted order (the Python side sorts them; order is irrelevant to the comparison). */
function sorted(object) {
  return Object.fromEntries(Object.keys(object).sort().map((key) => [key, object[key]]));
}

function report(fixtures, gas) {
  const fn = (name) => gas.global(name);
  const mapping = ({rows, overrides}) => {
    let detection;
    try {
      detection = fn('detectColumns_')(rows, overrides || {});
    } catch {
      return {error: true};
    }
    if (!detection.map) return {error: true};
    return {header_row: detection.map.headerRow, inputs: sorted(plain(detection.map.inputs)),
      outputs: sorted(plain(detection.map.outputs))};
  };
  const sheetRow = (map, row, types) => {
    if (fn('isBlankRow_')(map.inputs, row)) return {blank: true};
    const entry = plain(fn('rowContact_')(map.inputs, row));
    const todo = plain(fn('typesToDo_')(map.outputs, row, types));
    return {
      blank: false,
      contact: entry.contact,
      identity: entry.key,
      invalid: entry.invalidReason,
      todo,
      askable: todo.filter((type) => fn('canAsk_')(entry.contact, type)),
    };
  };
  return {
    header_sets: fixtures.header_sets.map(mapping),
    sheets: fixtures.sheets.map(({rows, types}) => {
      const {map} = fn('detectColumns_')(rows);
      if (!map) throw new Error(`a parity sheet has no usable header row: ${JSON.stringify(rows[0])}`);
      return rows.slice(map.headerRow + 1).map((row) => sheetRow(map, row, types));
    }),
    output_cells: fixtures.results.map((raw) => {
      const result = fn('resultFromAnswer_')(raw, Object.keys(raw.types));
      return sorted(plain(fn('outputCells_')(result, raw.done_before)));
    }),
  };
}

function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node parity.js tests/data/parity/fixtures.json\n');
    process.exit(2);
  }
  const fixtures = JSON.parse(fs.readFileSync(file, 'utf8'));
  const gas = new AppsScript();
  try {
    process.stdout.write(JSON.stringify(report(fixtures, gas)));
  } finally {
    gas.close();
  }
}

main();
