/**
 * Pending: formula cells Pronto had not answered yet fill themselves.
 *
 * Sheets runs a custom function again only when its arguments change (or on open
 * and some structural edits), so a cell still searched (a single cell's error "Still
 * searching…", an empty cell of a range, PRONTO_ENRICH's "pending: …" status) would
 * stay so. A formula that answers pending therefore records its cell (sheet, A1, formula and
 * the contacts still searched) in this spreadsheet's cache — custom functions may
 * use CacheService and LockService (developers.google.com/apps-script/guides/sheets/functions).
 * The Pronto timer (Timer.js), created earlier from an authorized context, then
 * asks the function about those contacts with a short wait (the function caches
 * answers: asking again costs nothing), keeps the final answers in the cache, and
 * enters each ready cell's formula again, which makes Sheets calculate it: this
 * time from the cache, without any call. With nothing recorded it reads one cache
 * entry and stops.
 */

/** Cache key of the list of recorded cells. */
const PENDING_INDEX_KEY = 'pronto-pending-index';
/** Prefix of each recorded cell's cache key. */
const PENDING_KEY_PREFIX = 'pronto-pending|';
/** Seconds a record is kept: CacheService's longest (a cell still pending after six hours is left). */
const PENDING_SECONDS = 21600;
/** Contacts kept per cell (a record must stay under CacheService's 100 KB per value). */
const PENDING_MAX_CONTACTS = 500;
/** Seconds the function may take to say what is ready, per check. */
const PENDING_CHECK_TIMEOUT_S = 5;
/** Milliseconds a formula waits for the lock guarding the list. */
const PENDING_LOCK_MS = 5000;

/**
 * One recorded cell.
 * @typedef {Object} PendingCell
 * @property {string} id Its cache key.
 * @property {string} sheet The sheet's name when recorded.
 * @property {number} sheetId The sheet's id (survives a rename).
 * @property {string} a1 The formula's cell, e.g. "E2".
 * @property {string} formula The formula text, to enter again.
 * @property {Array<string>} types The enrichment types it asks.
 * @property {Array<LookupItem>} contacts The contacts still searched, with their types.
 * @property {number} at When it was recorded (ms).
 */

/**
 * What a refresh of pending cells did.
 * @typedef {Object} PendingRefresh
 * @property {number} cells Cells recorded before the refresh.
 * @property {number} refreshed Cells whose formula was entered again (their answers are ready).
 * @property {number} waiting Cells still waiting for Pronto.
 * @property {number} dropped Cells whose formula was edited, moved or deleted meanwhile.
 * @property {number} calls POST /enrich calls made.
 */

/**
 * From a custom function: records the calling cell when some of its contacts are
 * still being searched, and forgets it when none is. Never throws: a formula's
 * answer matters more than its record.
 * @param {Array<string>} types The enrichment types the formula asks.
 * @param {Array<LookupItem>} pending The contacts answered pending, with their types.
 */
function notePendingCell_(types, pending) {
  try {
    const range = SpreadsheetApp.getActiveRange();
    if (!range) {
      return;
    }
    const sheet = range.getSheet();
    const a1 = range.getCell(1, 1).getA1Notation();
    const id = PENDING_KEY_PREFIX + sheet.getSheetId() + '!' + a1;
    const cache = resultCache_();
    if (!pending.length) {
      cache.remove(id);
      return;
    }
    /** @type {PendingCell} */
    const record = {
      id: id, sheet: sheet.getName(), sheetId: sheet.getSheetId(), a1: a1,
      formula: range.getCell(1, 1).getFormula(), types: types,
      contacts: pending.slice(0, PENDING_MAX_CONTACTS), at: Date.now(),
    };
    cache.put(id, JSON.stringify(record), PENDING_SECONDS);
    updatePendingIndex_(function(ids) {
      return ids.indexOf(id) === -1 ? ids.concat([id]) : ids;
    }, PENDING_LOCK_MS);
  } catch {
    // Left out of the list: Pronto ▸ Refresh pending cells still finds it on the sheet.
  }
}

/**
 * Changes the list of recorded cells under the document lock.
 * @param {function(Array<string>): Array<string>} change The new list from the old.
 * @param {number} waitMs How long to wait for the lock.
 * @return {boolean} Whether the list was changed.
 */
function updatePendingIndex_(change, waitMs) {
  const lock = LockService.getDocumentLock();
  if (!lock || !lock.tryLock(waitMs)) {
    return false;
  }
  try {
    const cache = resultCache_();
    const ids = readPendingIndex_();
    const next = change(ids);
    if (next.length) {
      cache.put(PENDING_INDEX_KEY, JSON.stringify(next), PENDING_SECONDS);
    } else {
      cache.remove(PENDING_INDEX_KEY);
    }
    return true;
  } finally {
    lock.releaseLock();
  }
}

/**
 * The recorded cells' keys.
 * @return {Array<string>} The keys.
 */
function readPendingIndex_() {
  const text = resultCache_().get(PENDING_INDEX_KEY);
  if (!text) {
    return [];
  }
  try {
    const ids = JSON.parse(text);
    return Array.isArray(ids) ? ids : [];
  } catch {
    return [];
  }
}

/**
 * Asks the function about the recorded cells' contacts and enters again the
 * formula of every cell whose answers are all in (found, not found, or a final
 * refusal), so Sheets shows them. Runs from the Pronto timer and from the menu.
 * @param {{timeoutS?: number, deadline?: number}} [options] How long the function may
 *     take per call, and when to stop asking.
 * @return {PendingRefresh} What was done.
 */
function refreshPendingCells_(options) {
  /** @type {PendingRefresh} */
  const done = {cells: 0, refreshed: 0, waiting: 0, dropped: 0, calls: 0};
  const ids = readPendingIndex_();
  if (!ids.length) {
    return done;
  }
  const cache = resultCache_();
  const texts = cache.getAll(ids);
  /** @type {Array<PendingCell>} */
  const records = [];
  /** @type {Array<string>} */
  const gone = [];
  ids.forEach(function(id) {
    const record = parsePendingCell_(texts[id]);
    const range = record && pendingRange_(record);
    if (!record || !range || range.getFormula() !== record.formula) {
      gone.push(id);
      return;
    }
    records.push(record);
  });
  done.cells = ids.length;
  done.dropped = gone.length;
  const answers = checkPendingContacts_(records, options || {});
  done.calls = answers.calls;
  /** @type {Array<string>} */
  const settled = [];
  records.forEach(function(record) {
    const ready = record.contacts.every(function(item) {
      const known = answers.results[item.key] || {};
      return (item.types || record.types).every(function(type) {
        return Boolean(known[type]) && known[type].status !== 'pending';
      });
    });
    if (!ready) {
      done.waiting++;
      return;
    }
    reenterFormula_(/** @type {GoogleAppsScript.Spreadsheet.Range} */ (pendingRange_(record)),
        record.formula);
    settled.push(record.id);
    done.refreshed++;
  });
  const forget = gone.concat(settled);
  if (forget.length) {
    cache.removeAll(forget);
    updatePendingIndex_(function(current) {
      return current.filter(function(id) {
        return forget.indexOf(id) === -1;
      });
    }, 10000);
  }
  return done;
}

/**
 * Asks the function about the distinct contacts of some cells, for the types each still
 * waits for (at most 1,000 contacts a call), reading the cache first.
 * @param {Array<PendingCell>} records The cells.
 * @param {{timeoutS?: number, deadline?: number}} options Wait and deadline.
 * @return {{results: Object<string, Object<string, TypeResult>>, calls: number}} Results by
 *     identity and type.
 */
function checkPendingContacts_(records, options) {
  /** @type {Array<LookupItem>} */
  const items = [];
  records.forEach(function(record) {
    record.contacts.forEach(function(item) {
      items.push({key: item.key, contact: item.contact, types: item.types || record.types});
    });
  });
  const lookup = lookupTypes_(items, {
    priority: 'batch',
    timeoutS: options.timeoutS || PENDING_CHECK_TIMEOUT_S,
    deadline: options.deadline,
    auth: 'auto',
  });
  return {results: lookup.results, calls: lookup.stats.calls};
}

/**
 * Reads a record from the cache.
 * @param {?string|undefined} text The cached JSON.
 * @return {?PendingCell} The record, or null.
 */
function parsePendingCell_(text) {
  if (!text) {
    return null;
  }
  try {
    const record = JSON.parse(text);
    return record && record.formula && Array.isArray(record.contacts) ? record : null;
  } catch {
    return null;
  }
}

/**
 * The recorded cell, found by sheet id (a renamed sheet is still found).
 * @param {PendingCell} record The record.
 * @return {?GoogleAppsScript.Spreadsheet.Range} The cell, or null when its sheet is gone.
 */
function pendingRange_(record) {
  const sheets = SpreadsheetApp.getActiveSpreadsheet().getSheets();
  for (let i = 0; i < sheets.length; i++) {
    if (sheets[i].getSheetId() === record.sheetId) {
      return sheets[i].getRange(record.a1);
    }
  }
  return null;
}

/**
 * Enters a cell's formula again so that Sheets calculates it: empty the cell,
 * flush, and write the same formula, as a person retyping it would.
 * @param {GoogleAppsScript.Spreadsheet.Range} cell The formula's cell.
 * @param {string} formula The formula.
 */
function reenterFormula_(cell, formula) {
  cell.setFormula('');
  SpreadsheetApp.flush();
  cell.setFormula(formula);
}

/**
 * Menu "Refresh pending cells": does now what the Pronto timer does every minute
 * (every hour for an add-on), waiting a little longer for Pronto, and also finds
 * formula cells of the active sheet still waiting that the list missed.
 * @return {string} The sentence shown (for tests and logs).
 */
function refreshPendingCellsNow() {
  ensureTimerQuietly_();
  const done = refreshPendingCells_({timeoutS: 20});
  const found = refreshSearchingCellsOnSheet_(SpreadsheetApp.getActiveSheet());
  const refreshed = done.refreshed + found;
  const message = refreshed || done.waiting ?
    'Refreshed ' + formatCount_(refreshed) + ' formula cell(s) whose answers are in.' +
      (done.waiting ? ' ' + formatCount_(done.waiting) + ' still wait for Pronto; they fill ' +
        'themselves when the answers arrive.' : '') :
    'No formula is waiting for Pronto.';
  SpreadsheetApp.getActiveSpreadsheet().toast(message, 'Pronto', 8);
  return message;
}

/**
 * Enters again every Pronto formula of a sheet that shows no answer yet: a single cell
 * showing an error (its sentence cannot be read from a script: "Still searching…" or
 * another), or a "pending" status in the cells it spilled into: a fallback for cells
 * the list missed. Answers in the caches make this free.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @return {number} How many formulas were entered again.
 */
function refreshSearchingCellsOnSheet_(sheet) {
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (!lastRow || !lastColumn) {
    return 0;
  }
  const range = sheet.getRange(1, 1, lastRow, lastColumn);
  const formulas = range.getFormulas();
  const values = range.getValues();
  let count = 0;
  formulas.forEach(function(row, r) {
    row.forEach(function(formula, c) {
      const match = PRONTO_FORMULA.exec(formula);
      if (!match) {
        return;
      }
      const size = spillSize_(sheet, match[1].toUpperCase(), match[2]);
      let searching = false;
      for (let dr = 0; dr < size.rows && r + dr < values.length && !searching; dr++) {
        for (let dc = 0; dc < size.columns && c + dc < values[0].length; dc++) {
          const value = values[r + dr][c + dc];
          if ((dr === 0 && dc === 0 && value === FORMULA_ERROR_TEXT) ||
              (typeof value === 'string' && statusCode_(value) === 'pending')) {
            searching = true;
          }
        }
      }
      if (searching) {
        reenterFormula_(sheet.getRange(r + 1, c + 1), formula);
        count++;
      }
    });
  });
  return count;
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {notePendingCell_, refreshPendingCells_,
    readPendingIndex_, refreshPendingCellsNow, PENDING_INDEX_KEY};
}
