/**
 * ServerRun: a run handed to the function (POST /fill on the chosen rows), used when
 * the function can open the spreadsheet (shared with its service account). The
 * function fills the rows itself and goes on after UrlFetchApp stops waiting (about a
 * minute); rows handed to it show "pending: queued for the Pronto function" until it
 * writes them, which is how the sidebar measures progress.
 */

/** A fill handed to the function that shows no progress for this long has stopped (ms). */
const SERVER_STALL_MS = 15 * 60000;

/**
 * Asks the function whether it can open this spreadsheet (a dry run of POST /fill
 * on the run's rows: it reads, writes nothing and spends nothing).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {RunState} run The run.
 * @return {boolean} True when it can fill the rows itself.
 */
function serverCanFill_(sheet, run) {
  try {
    callFill_(runFillRequest_(sheet, run), true);
    return true;
  } catch {
    // Not shared, no Google credentials on the function…: Apps Script does the rows itself.
    return false;
  }
}

/**
 * What POST /fill is asked for a run: its rows, types and columns.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {RunState} run The run.
 * @return {FillRequest} The request.
 */
function runFillRequest_(sheet, run) {
  return {sheet: sheet, types: run.types, mapping: run.mapping, headerRow: run.headerRow,
    firstRow: run.firstRow, lastRow: run.lastRow};
}

/**
 * Hands the run's rows to the function: marks those to enrich as queued (so
 * progress can be read from the sheet), then waits for POST /fill as long as
 * UrlFetchApp waits. The fill goes on without this call. The run keeps the number
 * of rows queued, not their list: its rows are firstRow..lastRow, and a queued row
 * says so in its Pronto status (a list of 10,000 rows would not fit a property).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {SheetTable} table The table.
 * @param {RunState} run The run.
 */
function startServerRun_(sheet, table, run) {
  ensureOutputColumns_(table, run.types);
  const rows = readRows_(table, run.firstRow, run.lastRow, run.types);
  const column = table.outputs[PRONTO_STATUS_FIELD] + 1;
  const statuses = sheet.getRange(run.firstRow, column, rows.length || 1, 1).getValues();
  let queued = 0;
  rows.forEach(function(state, index) {
    if (!state.entry.blank && state.todo.length) {
      statuses[index][0] = QUEUED_STATUS_TEXT;
      queued++;
    }
  });
  run.totals.filled = rows.filter(function(state) {
    return !state.entry.blank && !state.todo.length;
  }).length;
  // What the rows not handed over already say: progress is what the statuses add to it.
  run.baseline = statusCounts_(statuses).counts;
  if (rows.length) {
    // One write for the whole range: the other rows keep their status as it was.
    sheet.getRange(run.firstRow, column, rows.length, 1).setValues(statuses.map(function(row) {
      return [plainText_(row[0])];
    }));
  }
  SpreadsheetApp.flush();
  run.mode = 'server';
  run.driver = 'function';
  run.queued = queued;
  run.queuedLeft = queued;
  updateRun_(run.id, function(saved) {
    Object.assign(saved, run);
  });
  try {
    finishServerRun_(run.id, callFill_(runFillRequest_(sheet, run), false));
  } catch (e) {
    const error = /** @type {*} */ (e);
    if (error.code === 'timeout') {
      return; // UrlFetchApp stopped waiting; the function goes on filling (trackServerRun_ follows it).
    }
    unqueueRows_(run);
    updateRun_(run.id, function(saved) {
      saved.status = 'failed';
      saved.error = {message: error.message, fix: error.fix || ''};
      saved.finishedAt = Date.now();
    });
  }
}

/**
 * Records what POST /fill said when it finished, and frees rows it left queued.
 * @param {string} id The run's id.
 * @param {*} summary The fill's summary.
 */
function finishServerRun_(id, summary) {
  const run = readRun_();
  if (!run || run.id !== id) {
    return;
  }
  unqueueRows_(run);
  const outcome = fillOutcome_(summary);
  updateRun_(id, function(saved) {
    const filled = saved.totals.filled;
    saved.totals = outcome.counts;
    saved.totals.filled = filled;
    saved.queuedLeft = 0;
    saved.waitingForTomorrow = outcome.waitingForTomorrow;
    saved.notices = Object.assign({}, saved.notices || {}, outcome.notices);
    saved.status = outcome.counts.overBudget ? 'stopped' : 'done';
    saved.lane = outcome.lane;
    // Rows waiting for Pronto: say who writes them (the function's "stopped" says it less plainly).
    saved.message = waitingSentence_(outcome.counts.waiting) || outcome.stopped;
    saved.finishedAt = Date.now();
    saved.changedAt = saved.finishedAt;
  });
}

/**
 * The Pronto status cells of a run's rows, or null when the sheet or the column is gone.
 * @param {RunState} run The run.
 * @return {?GoogleAppsScript.Spreadsheet.Range} The cells.
 */
function runStatusCells_(run) {
  const sheet = runSheet_(run);
  if (!sheet || run.lastRow < run.firstRow) {
    return null;
  }
  const column = openTable_(sheet, run.mapping, true).outputs[PRONTO_STATUS_FIELD];
  return column === undefined ? null :
    sheet.getRange(run.firstRow, column + 1, run.lastRow - run.firstRow + 1, 1);
}

/**
 * Empties the status of rows still marked queued (the function did not get to
 * them): they are looked at again by the next run.
 * @param {RunState} run The run.
 */
function unqueueRows_(run) {
  const range = runStatusCells_(run);
  if (!range) {
    return;
  }
  const values = range.getValues();
  if (values.some(function(row) {
    return row[0] === QUEUED_STATUS_TEXT;
  })) {
    range.setValues(values.map(function(row) {
      return [row[0] === QUEUED_STATUS_TEXT ? '' : plainText_(row[0])];
    }));
  }
}

/**
 * Reads a server run's progress from its rows' statuses, and ends it when none is
 * left queued, or when nothing moved for a long while (the function stopped).
 * @param {RunState} run The run.
 */
function trackServerRun_(run) {
  const now = Date.now();
  if (!runSheet_(run)) {
    updateRun_(run.id, function(saved) {
      saved.status = 'failed';
      saved.error = {message: 'The sheet "' + run.sheetName + '" was deleted.', fix: ''};
      saved.finishedAt = now;
    });
    return;
  }
  const range = runStatusCells_(run);
  const seen = statusCounts_(range ? range.getValues() : []);
  const counts = seen.counts;
  const left = seen.queued;
  updateRun_(run.id, function(saved) {
    if (!runActive_(saved)) {
      return;
    }
    COUNTS.forEach(function(count) {
      if (count.status) {
        saved.totals[count.name] = Math.max(0, counts[count.name] -
            ((saved.baseline || {})[count.name] || 0));
      }
    });
    if (left !== saved.queuedLeft) {
      saved.queuedLeft = left;
      saved.changedAt = now;
    }
    if (!left) {
      saved.status = saved.totals.overBudget ? 'stopped' : 'done';
      saved.waitingForTomorrow = saved.totals.overBudget;
      saved.finishedAt = now;
    } else if (now - saved.changedAt > SERVER_STALL_MS) {
      saved.status = 'stopped';
      saved.message = 'The Pronto function stopped before filling ' + formatCount_(left) +
          ' row(s); enrich them again to look at them.';
      saved.finishedAt = now;
    }
  });
  const after = readRun_();
  if (after && after.id === run.id && !runActive_(after) && left) {
    unqueueRows_(after);
  }
}

/**
 * The counts some Pronto status cells show, and how many are still queued.
 * @param {Array<Array<*>>} values The cells' values (one column).
 * @return {{counts: Object<string, number>, queued: number}} The counts.
 */
function statusCounts_(values) {
  const counts = emptyCounts_();
  let queued = 0;
  values.forEach(function(row) {
    const text = String(row[0]);
    if (text === QUEUED_STATUS_TEXT) {
      queued++;
      return;
    }
    const name = countOfStatus_(statusCode_(text));
    if (name) {
      counts[name]++;
    }
  });
  return {counts: counts, queued: queued};
}
