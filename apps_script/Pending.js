/**
 * Pending: formula cells Pronto had not answered yet fill themselves.
 *
 * A formula that answers "still searching" records its cell, and only its cell, in a
 * Document Property of its own ("PRONTO_PENDING|<sheet id>!E2" → when): a few dozen
 * bytes, whatever the size of its range, written without a lock (each cell its own key),
 * and never evicted as CacheService items are. Custom functions may write Document
 * Properties (developers.google.com/apps-script/guides/sheets/functions). Nothing else
 * is kept: the contacts are the formula's own arguments, and the answers are in the
 * function's durable store, where asking again costs nothing.
 *
 * A refresh (the Pronto timer, the sidebar while it is open, the menu) reads each
 * recorded formula's arguments from the sheet, asks the function whether their answers
 * are in (a short wait; answers already paid for cost nothing), and for each cell whose
 * answers all are, changes the formula's refresh argument ("refresh 1", "refresh 2"…):
 * Google documents that a custom function is calculated again when its formula changes,
 * so Sheets runs it, and it answers from the cache. On open, the spreadsheet's simple
 * onOpen trigger does the same for every recorded cell without asking first (it may not
 * call URLs): the formulas themselves ask, and those still waiting record themselves again.
 */

/** Prefix of the Document Properties recording pending cells. */
const PENDING_PREFIX = 'PRONTO_PENDING|';
/** No recorded cell is read this close to the refresh's deadline (ms): the asking and recalculating follow. */
const PENDING_READ_MARGIN_MS = 60000;
/** Seconds the function may take to say what is ready, per check. */
const PENDING_CHECK_TIMEOUT_S = 5;

/**
 * One recorded cell, found again.
 * @typedef {Object} PendingCell
 * @property {string} key Its property.
 * @property {GoogleAppsScript.Spreadsheet.Range} range The formula's cell.
 * @property {string} formula Its formula.
 * @property {?Array<LookupItem>} items What it asks, or null when its arguments cannot be
 *     read here (an expression): it is then recalculated without asking first.
 */

/**
 * What a refresh of pending cells did.
 * @typedef {Object} PendingRefresh
 * @property {number} cells Cells recorded before the refresh.
 * @property {number} refreshed Cells recalculated (their answers are in).
 * @property {number} waiting Cells still waiting for Pronto.
 * @property {number} dropped Cells whose formula was edited, moved or deleted meanwhile.
 * @property {number} calls POST /enrich calls made.
 */

/**
 * From a custom function: records the calling cell when some of its contacts are still
 * being searched. A cell answered is not un-recorded here (a write per recalculation of
 * every formula would spend the day's property writes): the next refresh finds its
 * answers in and forgets it.
 * @param {boolean} pending Whether some of the formula's contacts are still searched.
 */
function notePendingCell_(pending) {
  const range = SpreadsheetApp.getActiveRange();
  if (!pending || !range) {
    return;
  }
  const key = PENDING_PREFIX + range.getSheet().getSheetId() + '!' + range.getCell(1, 1).getA1Notation();
  try {
    PropertiesService.getDocumentProperties().setProperty(key, String(Date.now()));
  } catch (e) {
    // The property store is full (500 KB): the cell still shows "Still searching", and
    // Pronto ▸ Refresh pending cells finds it on the sheet (refreshSearchingCellsOnSheet_).
    console.warn('Pronto could not record a pending cell: ' + /** @type {Error} */ (e).message);
  }
}

/**
 * The recorded cells' properties.
 * @return {Array<string>} The keys.
 */
function pendingKeys_() {
  return PropertiesService.getDocumentProperties().getKeys().filter(function(key) {
    return key.indexOf(PENDING_PREFIX) === 0;
  });
}

/**
 * Whether any cell is recorded as pending.
 * @return {boolean} True when one is.
 */
function anyPendingCell_() {
  return pendingKeys_().length > 0;
}

/**
 * Asks the function about the recorded cells' contacts and recalculates every cell whose
 * answers are all in (found, not found, or a final refusal), so Sheets shows them.
 * @param {{timeoutS?: number, deadline?: number}} [options] How long the function may
 *     take per call, and when to stop asking.
 * @return {PendingRefresh} What was done.
 */
function refreshPendingCells_(options) {
  /** @type {PendingRefresh} */
  const done = {cells: 0, refreshed: 0, waiting: 0, dropped: 0, calls: 0};
  const keys = pendingKeys_();
  done.cells = keys.length;
  if (!keys.length) {
    return done;
  }
  const properties = PropertiesService.getDocumentProperties();
  const deadline = options && options.deadline ? options.deadline : Infinity;
  // Half the time left at most is kept for asking the function and recalculating.
  const stopReadingAt = deadline - Math.min(PENDING_READ_MARGIN_MS, (deadline - Date.now()) / 2);
  /** @type {Array<PendingCell>} */
  const cells = [];
  keys.forEach(function(key) {
    if (Date.now() > stopReadingAt) {
      done.waiting++; // Read at the next refresh: this one must end inside its 6 minutes.
      return;
    }
    const cell = pendingCell_(key);
    if (cell) {
      cells.push(cell);
    } else {
      properties.deleteProperty(key);
      done.dropped++;
    }
  });
  const answers = checkPendingContacts_(cells, options || {});
  done.calls = answers.calls;
  cells.forEach(function(cell) {
    const ready = !cell.items || cell.items.every(function(item) {
      const known = answers.results[item.key] || {};
      return item.types.every(function(type) {
        return Boolean(known[type]) && known[type].status !== 'pending';
      });
    });
    if (!ready) {
      done.waiting++;
      return;
    }
    recalculate_(cell.range, cell.formula);
    properties.deleteProperty(cell.key);
    done.refreshed++;
  });
  return done;
}

/**
 * From the simple onOpen trigger: recalculates every recorded cell at once (a simple
 * trigger may edit the spreadsheet but not call the function: each formula asks it
 * itself, answers already paid for cost nothing, and a cell still waiting records itself
 * again).
 * @return {number} How many cells were recalculated.
 */
function recalculatePendingCells_() {
  const properties = PropertiesService.getDocumentProperties();
  let count = 0;
  pendingKeys_().forEach(function(key) {
    const cell = pendingCell_(key);
    properties.deleteProperty(key);
    if (cell) {
      recalculate_(cell.range, cell.formula);
      count++;
    }
  });
  return count;
}

/**
 * A recorded cell found again, with what its formula asks; null when its sheet is gone
 * or its formula is no longer a Pronto formula.
 * @param {string} key The cell's property.
 * @return {?PendingCell} The cell.
 */
function pendingCell_(key) {
  const at = /^PRONTO_PENDING\|(\d+)!([A-Z]+\d+)$/.exec(key);
  const sheet = at ? sheetById_(Number(at[1])) : null;
  if (!at || !sheet) {
    return null;
  }
  const range = sheet.getRange(at[2]);
  const formula = range.getFormula();
  const call = formulaCall_(formula);
  if (!call) {
    return null;
  }
  let items = null;
  try {
    items = formulaItems_(call.name, call.args.map(function(argument) {
      return argumentValue_(sheet, argument);
    }));
  } catch {
    items = null; // An expression, or arguments the formula itself refuses: recalculate it.
  }
  return {key: key, range: range, formula: formula, items: items};
}

/**
 * The value Sheets passes a custom function for an argument as typed: a quoted text, a
 * number, or a reference's values (a single value for one cell, else rows of values).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The formula's sheet.
 * @param {string} argument The argument as typed.
 * @return {*} The value (undefined for an empty argument); throws for an expression.
 */
function argumentValue_(sheet, argument) {
  if (argument === '') {
    return undefined;
  }
  const quoted = /^"(.*)"$/.exec(argument);
  if (quoted) {
    return quoted[1].replace(/""/g, '"');
  }
  if (/^-?\d+(\.\d+)?$/.test(argument)) {
    return Number(argument);
  }
  const ref = /^(?:(?:'((?:[^']|'')+)'|([^!'"]+))!)?\$?([A-Z]+)\$?(\d+)?(?::\$?([A-Z]+)\$?(\d+)?)?$/i
      .exec(argument);
  if (!ref) {
    throw new Error('Not a value or a reference: ' + argument);
  }
  const named = ref[1] ? ref[1].replace(/''/g, "'") : ref[2];
  const source = named ? SpreadsheetApp.getActiveSpreadsheet().getSheetByName(named) : sheet;
  if (!source) {
    throw new Error('No sheet named ' + named);
  }
  const firstRow = Number(ref[4] || 1);
  const lastRow = ref[5] ? (ref[6] ? Number(ref[6]) : source.getLastRow()) : firstRow;
  const firstColumn = columnNumber_(ref[3]);
  const lastColumn = ref[5] ? columnNumber_(ref[5]) : firstColumn;
  const values = source.getRange(firstRow, firstColumn, Math.max(lastRow - firstRow + 1, 1),
      lastColumn - firstColumn + 1).getValues();
  return values.length === 1 && values[0].length === 1 ? values[0][0] : values;
}

/**
 * Asks the function about the distinct contacts of some cells (at most 1,000 a call),
 * reading the cache first.
 * @param {Array<PendingCell>} cells The cells.
 * @param {{timeoutS?: number, deadline?: number}} options Wait and deadline.
 * @return {{results: Object<string, Object<string, TypeResult>>, calls: number}} Results by
 *     identity and type.
 */
function checkPendingContacts_(cells, options) {
  /** @type {Array<LookupItem>} */
  const items = [];
  cells.forEach(function(cell) {
    (cell.items || []).forEach(function(item) {
      items.push(item);
    });
  });
  if (!items.length) {
    return {results: {}, calls: 0};
  }
  const lookup = lookupTypes_(items, {
    priority: 'batch',
    timeoutS: options.timeoutS || PENDING_CHECK_TIMEOUT_S,
    deadline: options.deadline,
    auth: 'auto',
  });
  return {results: lookup.results, calls: lookup.stats.calls};
}

/**
 * A sheet of this spreadsheet by id (a renamed sheet is still found).
 * @param {number} id The sheet's id.
 * @return {?GoogleAppsScript.Spreadsheet.Sheet} The sheet, or null when it is gone.
 */
function sheetById_(id) {
  const sheets = SpreadsheetApp.getActiveSpreadsheet().getSheets();
  for (let i = 0; i < sheets.length; i++) {
    if (sheets[i].getSheetId() === id) {
      return sheets[i];
    }
  }
  return null;
}

/**
 * Makes Sheets calculate a formula again by changing its refresh argument (documented:
 * a changed formula is recalculated).
 * @param {GoogleAppsScript.Spreadsheet.Range} cell The formula's cell.
 * @param {string} formula The formula.
 */
function recalculate_(cell, formula) {
  const next = refreshedFormula_(formula);
  if (next) {
    cell.setFormula(next);
    return;
  }
  // A formula with more arguments than the refresh's place: re-entering its text is the
  // only way left. Google does not document that it recalculates; the cell shows its
  // answer at the latest when the person edits it or its arguments.
  cell.setFormula('');
  SpreadsheetApp.flush();
  cell.setFormula(formula);
}

/**
 * Recalculates every Pronto formula of a sheet that shows no answer yet: a single cell
 * showing an error (its sentence cannot be read from a script: "Still searching…" or
 * another), or a "pending" status in the cells it spilled into: a fallback for cells not
 * recorded. Answers already paid for make this free.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @return {number} How many formulas were recalculated.
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
        recalculate_(sheet.getRange(r + 1, c + 1), formula);
        count++;
      }
    });
  });
  return count;
}
