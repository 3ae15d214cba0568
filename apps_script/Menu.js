/**
 * Menu: the add-on menu (Extensions ▸ Pronto enrichment) and the actions that need
 * no page of their own — filling the sheet on the server, refreshing pending
 * cells (Pending.js) and freezing formulas to values.
 */

/** Matches a cell formula calling one of our formulas. */
const PRONTO_FORMULA = /^=\s*(PRONTO_EMAIL|PRONTO_PHONE|PRONTO_ENRICH)\s*\((.*)\)\s*$/i;

/**
 * Adds the menu when the spreadsheet opens. As an Editor add-on the menu goes under
 * Extensions (createAddonMenu); for an add-on not yet used in this spreadsheet
 * onOpen runs in AuthMode.NONE and may only add menu items, which is all it does
 * (developers.google.com/workspace/add-ons/concepts/editor-auth-lifecycle).
 * @param {{authMode?: *}} [event] The open event.
 */
function onOpen(event) { // eslint-disable-line no-unused-vars
  SpreadsheetApp.getUi()
      .createAddonMenu()
      .addItem('Enrich rows…', 'showEnrichSidebar')
      .addItem('Fill this sheet on the server', 'fillSheetOnServer')
      .addItem('Refresh pending cells', 'refreshPendingCellsNow')
      .addItem('Freeze formulas to values', 'freezeFormulasInSelection')
      .addSeparator()
      .addItem('Schedule refresh…', 'showScheduleDialog')
      .addItem('Settings…', 'showSettingsDialog')
      .addToUi();
}

/**
 * Runs once when the add-on is installed, with full authorization: adds the menu
 * (onOpen does not run for a spreadsheet already open) and starts the Pronto timer,
 * which custom functions cannot start themselves.
 * @param {{authMode?: *}} [event] The install event.
 */
function onInstall(event) {
  onOpen(event);
  ensureTimerQuietly_();
}

/**
 * Menu "Settings…": opens the dialog.
 */
function showSettingsDialog() {
  ensureTimerQuietly_();
  const html = page_('Settings').setWidth(480).setHeight(560);
  SpreadsheetApp.getUi().showModalDialog(html, 'Pronto settings');
}

/**
 * Menu "Fill this sheet on the server": shows the function's plan (nothing
 * spent), asks, then lets the function fill the sheet through the Sheets API.
 * @return {string} The sentence shown at the end (for tests and logs).
 */
function fillSheetOnServer() {
  const ui = SpreadsheetApp.getUi();
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getActiveSheet();
  const body = {spreadsheet_id: spreadsheet.getId(), sheet: sheet.getName()};
  let message;
  try {
    const plan = callFunction_('POST', '/fill', Object.assign({dry_run: true}, body),
        {auth: 'auto'});
    const toLookUp = firstNumber_(plan, ['to_call', 'unique', 'to_enrich']);
    const credits = firstNumber_(plan, ['estimated_credits', 'credits']);
    const answer = ui.alert('Fill "' + sheet.getName() + '" on the server',
        plan.rows + ' rows: ' + toLookUp + ' people to look up, ' + (plan.skipped_filled || 0) +
        ' already filled, ' + (plan.duplicates || 0) + ' duplicates, ' + (plan.invalid || 0) +
        ' invalid; at most ' + credits + ' credits. Start?', ui.ButtonSet.YES_NO);
    if (answer !== ui.Button.YES) {
      return 'Nothing was changed.';
    }
    const summary = callFunction_('POST', '/fill', body, {auth: 'auto'});
    message = 'Done: ' + (summary.found || 0) + ' found, ' + (summary.not_found || 0) +
        ' not found, ' + (summary.invalid || 0) + ' invalid, ' + (summary.failed || 0) +
        ' failed; ' + (summary.credits || 0) + ' credits spent.';
  } catch (e) {
    message = /** @type {Error} */ (e).message;
    if (/** @type {*} */ (e).code === 'sheet_not_shared') {
      message += ' Or use Pronto ▸ Enrich rows, which works without sharing.';
    }
  }
  ui.alert('Pronto', message, ui.ButtonSet.OK);
  return message;
}

/**
 * The first numeric field present among some names.
 * @param {*} object The object.
 * @param {Array<string>} names Field names, preferred first.
 * @return {number} The value (0 when none).
 */
function firstNumber_(object, names) {
  for (let i = 0; i < names.length; i++) {
    if (object && typeof object[names[i]] === 'number') {
      return object[names[i]];
    }
  }
  return 0;
}

/**
 * Menu "Freeze formulas to values": replaces each PRONTO_* formula in the
 * selection, and the cells it spills into, by their current values, so they
 * never recalculate (nor spend) again.
 * @return {string} The sentence shown (for tests and logs).
 */
function freezeFormulasInSelection() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const range = sheet.getActiveRange();
  let frozen = 0;
  let cells = 0;
  if (range) {
    const formulas = range.getFormulas();
    formulas.forEach(function(row, r) {
      row.forEach(function(formula, c) {
        const match = PRONTO_FORMULA.exec(formula);
        if (!match) {
          return;
        }
        const size = spillSize_(sheet, match[1].toUpperCase(), match[2]);
        const block = sheet.getRange(range.getRow() + r, range.getColumn() + c, size.rows,
            size.columns);
        const values = block.getValues().map(function(valuesRow) {
          return valuesRow.map(plainText_);
        });
        block.setValues(values);
        frozen++;
        cells += size.rows * size.columns;
      });
    });
  }
  const message = frozen ?
    'Froze ' + frozen + ' Pronto formula(s) (' + cells + ' cells) to values: they will not ' +
      'recalculate or spend credits again.' :
    'No Pronto formula in the selection: select the cells holding =PRONTO_EMAIL(…) and try again.';
  SpreadsheetApp.getActiveSpreadsheet().toast(message, 'Pronto', 8);
  return message;
}

/**
 * How many rows and columns a PRONTO_* formula fills, from its range arguments.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet (for open-ended ranges).
 * @param {string} name The formula name.
 * @param {string} argumentText The text between the parentheses.
 * @return {{rows: number, columns: number}} The size of the answer.
 */
function spillSize_(sheet, name, argumentText) {
  let rows = 1;
  let columns = 1;
  argumentText.split(/[,;]/).forEach(function(argument) {
    const match = /^\s*(?:(?:'[^']+'|[^!'"]+)!)?\$?([A-Z]+)\$?(\d+)?:\$?([A-Z]+)\$?(\d+)?\s*$/i
        .exec(argument);
    if (!match) {
      return;
    }
    const startRow = Number(match[2] || 1);
    const endRow = match[4] ? Number(match[4]) : sheet.getLastRow();
    rows = Math.max(rows, endRow - startRow + 1);
    columns = Math.max(columns, columnNumber_(match[3]) - columnNumber_(match[1]) + 1);
  });
  return {rows: rows, columns: name === 'PRONTO_ENRICH' ? 4 : columns};
}

/**
 * A column's 1-based number from its letters ("A" → 1, "AA" → 27).
 * @param {string} letters The letters.
 * @return {number} The number.
 */
function columnNumber_(letters) {
  return letters.toUpperCase().split('').reduce(function(total, letter) {
    return total * 26 + letter.charCodeAt(0) - 64;
  }, 0);
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {onOpen, onInstall, showSettingsDialog, fillSheetOnServer,
    freezeFormulasInSelection, spillSize_, PRONTO_FORMULA};
}
