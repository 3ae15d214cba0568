/**
 * Menu: the add-on menu (Extensions ▸ Pronto enrichment) and the actions that need
 * no page of their own — filling the sheet on the server, refreshing pending
 * cells (Pending.js) and freezing formulas to values.
 */

/**
 * Adds the menu when the spreadsheet opens. As an Editor add-on the menu goes under
 * Extensions (createAddonMenu); for an add-on not yet used in this spreadsheet onOpen
 * runs in AuthMode.NONE and may only add menu items
 * (developers.google.com/workspace/add-ons/concepts/editor-auth-lifecycle). Otherwise
 * (LIMITED: the bound document only, no URL), it also catches up: formula cells still
 * waiting for Pronto are recalculated at once (Pending.js), and a scheduled refresh that
 * failed since someone last looked is shown, since Google e-mails add-ons' users nothing.
 * @param {{authMode?: *}} [event] The open event.
 */
function onOpen(event) {
  SpreadsheetApp.getUi()
      .createAddonMenu()
      .addItem('Enrich selected rows…', 'showEnrichSidebar')
      .addItem('Fill this sheet on the server', 'fillSheetOnServer')
      .addItem('Refresh pending cells', 'refreshPendingCellsNow')
      .addItem('Freeze formulas to values', 'freezeFormulasInSelection')
      .addSeparator()
      .addItem('Schedule refresh…', 'showScheduleDialog')
      .addItem('Settings…', 'showSettingsDialog')
      .addItem('Forget a person…', 'showForgetDialog')
      .addToUi();
  if (event && String(event.authMode) === 'NONE') {
    return;
  }
  try {
    recalculatePendingCells_();
    const alert = scheduleAlert_();
    if (alert) {
      SpreadsheetApp.getActiveSpreadsheet().toast(alert, 'Pronto', 30);
    }
  } catch (e) {
    // The menu is up; the catch-up waits for the timer or the sidebar, which do the same.
    console.warn('Pronto could not catch up on open: ' + /** @type {Error} */ (e).message);
  }
}

/**
 * Runs once when the add-on is installed, with full authorization: adds the menu
 * (onOpen does not run for a spreadsheet already open) and starts the Pronto timer,
 * which custom functions cannot start themselves (it stays an hour, or while it has work).
 * @param {{authMode?: *}} [event] The install event.
 */
function onInstall(event) {
  onOpen(event);
  ensureTimerQuietly_();
}

/**
 * Menu "Fill this sheet on the server": shows the function's plan (nothing
 * spent), asks, then lets the function fill the sheet through the Sheets API.
 * @return {string} The sentence shown at the end (for tests and logs).
 */
function fillSheetOnServer() {
  const ui = SpreadsheetApp.getUi();
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getActiveSheet();
  let message;
  try {
    const plan = fillPlan_(callFill_({sheet: sheet}, true));
    const answer = ui.alert('Fill "' + sheet.getName() + '" on the server',
        plan.rows + ' rows: ' + plan.toLookUp + ' people to look up, ' + plan.filled +
        ' already filled, ' + plan.duplicates + ' duplicates, ' + plan.invalid + ' invalid' +
        (plan.needsLinkedin ? ', ' + plan.needsLinkedin + ' need a LinkedIn URL for a type ' +
          'asked' : '') + '; at most ' + plan.credits + ' credits. Start?', ui.ButtonSet.YES_NO);
    if (answer !== ui.Button.YES) {
      return 'Nothing was changed.';
    }
    const outcome = fillOutcome_(callFill_({sheet: sheet}, false));
    const counts = outcome.counts;
    message = 'Done: ' + counts.found + ' found, ' + counts.notFound + ' not found, ' +
        counts.invalid + ' invalid, ' + counts.failed + ' failed; ' + outcome.credits +
        ' credits spent.' + (counts.needsLinkedin ? ' ' + counts.needsLinkedin + ' row(s) need ' +
          'a LinkedIn URL (their status says for what).' : '');
    const notices = accountNotices_(outcome.notices);
    message += notices ? ' ' + notices : '';
  } catch (e) {
    message = /** @type {Error} */ (e).message;
    if (/** @type {*} */ (e).code === 'sheet_not_shared') {
      message += ' Or use Pronto ▸ Enrich selected rows, which works without sharing.';
    }
  }
  ui.alert('Pronto', message, ui.ButtonSet.OK);
  return message;
}

/**
 * Menu "Freeze formulas to values": replaces each PRONTO_* formula in the selection, and
 * the cells it spills into, by their current values, so they never recalculate (nor
 * spend) again. Only answers become values: a cell showing an error (a single cell's
 * "Add a LinkedIn URL…", "Still searching…") and a status cell without an answer
 * ("invalid: …", "pending: …", "failed: …") are left empty, never written as text, so
 * Enrich selected rows sees those rows as still to do; an answer's status keeps its code alone.
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
      'empty: Enrich selected rows looks those rows up.' : '') :
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
 * Menu "Refresh pending cells": does now what the Pronto timer does every minute
 * (every hour for an add-on), waiting a little longer for Pronto, and also finds
 * formula cells of the active sheet still waiting that the list missed.
 * @return {string} The sentence shown (for tests and logs).
 */
function refreshPendingCellsNow() {
  const timer = ensureTimerQuietly_();
  const done = refreshPendingCells_({timeoutS: 20});
  const found = refreshSearchingCellsOnSheet_(SpreadsheetApp.getActiveSheet());
  const refreshed = done.refreshed + found;
  const message = (refreshed || done.waiting ?
    'Refreshed ' + formatCount_(refreshed) + ' formula cell(s) whose answers are in.' +
      (done.waiting ? ' ' + formatCount_(done.waiting) + ' still wait for Pronto; they fill ' +
        'themselves when the answers arrive.' : '') :
    'No formula is waiting for Pronto.') + (done.waiting && timer.problem ? ' ' + timer.problem : '');
  SpreadsheetApp.getActiveSpreadsheet().toast(message, 'Pronto', 8);
  return message;
}
