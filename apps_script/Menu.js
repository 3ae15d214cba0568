/**
 * Menu: the add-on menu (Extensions ▸ Pronto enrichment) and the actions that need
 * no page of their own — filling the sheet on the server, refreshing pending
 * cells (Pending.js) and freezing formulas to values.
 */

/** Matches a cell formula calling one of our formulas. */
const PRONTO_FORMULA =
    /^=\s*(PRONTO_EMAIL|PRONTO_PHONE|PRONTO_PERSONAL_EMAIL|PRONTO_ENRICH)\s*\((.*)\)\s*$/i;
/** What a formula cell that threw shows, as a script reads it (getValues). */
const FORMULA_ERROR_TEXT = '#ERROR!';

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
        ' invalid' + (plan.needs_linkedin ? ', ' + plan.needs_linkedin + ' need a LinkedIn URL ' +
          'for a type asked' : '') + '; at most ' + credits + ' credits. Start?', ui.ButtonSet.YES_NO);
    if (answer !== ui.Button.YES) {
      return 'Nothing was changed.';
    }
    const summary = callFunction_('POST', '/fill', body, {auth: 'auto'});
    message = 'Done: ' + (summary.found || 0) + ' found, ' + (summary.not_found || 0) +
        ' not found, ' + (summary.invalid || 0) + ' invalid, ' + (summary.failed || 0) +
        ' failed; ' + (summary.credits || 0) + ' credits spent.' +
        (summary.needs_linkedin ? ' ' + summary.needs_linkedin + ' row(s) need a LinkedIn URL ' +
          '(their status says for what).' : '');
    const notices = accountNotices_(summary.notices || {});
    message += notices ? ' ' + notices : '';
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
 * Menu "Freeze formulas to values": replaces each PRONTO_* formula in the selection, and
 * the cells it spills into, by their current values, so they never recalculate (nor
 * spend) again. Only answers become values: a cell showing an error (a single cell's
 * "Add a LinkedIn URL…", "Still searching…") and a status cell without an answer
 * ("invalid: …", "pending: …", "failed: …") are left empty, never written as text, so
 * Enrich rows sees those rows as still to do; an answer's status keeps its code alone.
 * @return {string} The sentence shown (for tests and logs).
 */
function freezeFormulasInSelection() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const range = sheet.getActiveRange();
  let frozen = 0;
  let cells = 0;
  let emptied = 0;
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
          return valuesRow.map(function(value) {
            const kept = frozenValue_(value);
            emptied += kept === '' && cellText_(value) !== '' ? 1 : 0;
            return plainText_(kept);
          });
        });
        block.setValues(values);
        frozen++;
        cells += size.rows * size.columns;
      });
    });
  }
  const message = frozen ?
    'Froze ' + frozen + ' Pronto formula(s) (' + cells + ' cells) to values: they will not ' +
      'recalculate or spend credits again.' + (emptied ? ' ' + formatCount_(emptied) +
      ' cell(s) without an answer (missing details, still searching, failed…) were left ' +
      'empty: Enrich rows looks those rows up.' : '') :
    'No Pronto formula in the selection: select the cells holding =PRONTO_EMAIL(…) and try again.';
  SpreadsheetApp.getActiveSpreadsheet().toast(message, 'Pronto', 8);
  return message;
}

/**
 * What a cell of a Pronto formula becomes when frozen: an answer stays, a non-answer
 * is emptied (see freezeFormulasInSelection).
 * @param {*} value The cell's current value.
 * @return {*} The value to keep ('' for none).
 */
function frozenValue_(value) {
  if (typeof value !== 'string') {
    return value;
  }
  if (value === FORMULA_ERROR_TEXT) {
    return '';
  }
  if (isStatusText_(value)) {
    const code = statusCode_(value);
    return isAnswer_(code) ? code : '';
  }
  return value;
}

/**
 * How many rows and columns a PRONTO_* formula fills, from its range arguments (and,
 * for PRONTO_ENRICH, its types).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet (for open-ended ranges).
 * @param {string} name The formula name.
 * @param {string} argumentText The text between the parentheses.
 * @return {{rows: number, columns: number}} The size of the answer.
 */
function spillSize_(sheet, name, argumentText) {
  let rows = 1;
  let columns = 1;
  const args = argumentText.split(/[,;]/);
  args.forEach(function(argument) {
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
  if (name !== 'PRONTO_ENRICH') {
    return {rows: rows, columns: columns};
  }
  return {rows: rows, columns: enrichColumns_(formulaTypes_(sheet, args)).length};
}

/**
 * The types a PRONTO_ENRICH formula asks, from its text: the fifth argument, or a
 * fourth that is no LinkedIn URL, as a quoted text or a cell holding it.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {Array<string>} args The formula's arguments as typed.
 * @return {Array<string>} The types (the default when they cannot be read).
 */
function formulaTypes_(sheet, args) {
  /**
   * @param {string|undefined} text An argument as typed.
   * @return {string} Its value: a quoted text, or the value of the one cell it names.
   */
  function valueOf(text) {
    const argument = (text || '').trim();
    const quoted = /^"(.*)"$/.exec(argument);
    if (quoted) {
      return quoted[1].replace(/""/g, '"');
    }
    if (/^(?:(?:'[^']+'|[^!'"]+)!)?\$?[A-Z]+\$?\d+$/i.test(argument)) {
      try {
        return cellText_(sheet.getRange(argument.replace(/\$/g, '')).getValue());
      } catch {
        return '';
      }
    }
    return '';
  }
  let types = valueOf(args[4]);
  const fourth = valueOf(args[3]);
  if (!types && fourth && !looksLikeLinkedIn_(fourth)) {
    types = fourth;
  }
  try {
    return parseTypes_(types);
  } catch {
    return parseTypes_('');
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {onOpen, onInstall, showSettingsDialog, fillSheetOnServer,
    freezeFormulasInSelection, frozenValue_, spillSize_, PRONTO_FORMULA};
}
