/**
 * RunState: a sidebar run as saved in Document Properties, so that whoever opens the
 * sidebar sees it and it goes on without the page; who holds it (a lease for the step
 * being made), and what the sidebar shows of it. Runs.js starts and moves runs;
 * ServerRun.js and ChunkedRun.js are the two ways a run is done.
 */

/**
 * A run, as saved.
 * @typedef {Object} RunState
 * @property {string} id
 * @property {string} by Who started it.
 * @property {string} mode 'script' (chunks from Apps Script) or 'server' (POST /fill).
 * @property {string} status running, collecting, done, stopped, cancelled or failed.
 * @property {string} sheetName
 * @property {number} sheetId
 * @property {string} scope 'selection' or 'sheet'.
 * @property {number} headerRow The header row (1-based), as the sidebar showed it.
 * @property {number} firstRow
 * @property {number} lastRow
 * @property {ColumnMapping} mapping
 * @property {Array<string>} types
 * @property {number} nextRow The next row a chunk starts at (script mode).
 * @property {number} toEnrich People to look up, counted at the start.
 * @property {Object<string, number>} [baseline] Counts the statuses of the rows not handed
 *     over showed at the start (server mode): progress is what the statuses add.
 * @property {number} queued How many.
 * @property {number} queuedLeft How many still wait (server mode).
 * @property {Object<string, number>} totals Counts by name (COUNTS).
 * @property {Array<number>} pendingRows Rows still searched, to collect.
 * @property {number} pendingOverflow Rows still searched beyond those remembered.
 * @property {number} collectAttempts
 * @property {?number} creditsSpentToday
 * @property {?number} creditBudget
 * @property {number} waitingForTomorrow Rows left when the budget ran out.
 * @property {Object<string, string>} notices Account-level notices by code (personal emails paused…).
 * @property {boolean} cancelRequested
 * @property {number} leaseUntil
 * @property {string} leaseBy 'sidebar' or 'timer'.
 * @property {string} driver Who moved it last: 'sidebar', 'timer' or 'function'.
 * @property {number} startedAt
 * @property {number} updatedAt When a driver last touched it.
 * @property {number} changedAt When its progress last moved (server mode).
 * @property {number} finishedAt
 * @property {string} message A sentence about how it ended, or ''.
 * @property {?{message: string, fix: string}} error What stopped it, when an error did.
 * @property {string} [lane] 'async' when the function's /fill said it filled on the async lane.
 */

/**
 * What the sidebar shows of a run.
 * @typedef {Object} RunView
 * @property {string} id
 * @property {string} mode
 * @property {string} status
 * @property {boolean} active Whether it is still going (running or collecting).
 * @property {boolean} background Whether the timer or the function is moving it now.
 * @property {string} by
 * @property {boolean} mine
 * @property {string} sheetName
 * @property {string} scope
 * @property {number} firstRow
 * @property {number} lastRow
 * @property {Array<string>} types
 * @property {ColumnMapping} mapping
 * @property {number} done Rows looked at.
 * @property {number} total Rows to look at.
 * @property {number} percent
 * @property {Object<string, number>} counts
 * @property {?number} creditsSpentToday
 * @property {?number} creditBudget
 * @property {number} waitingForTomorrow
 * @property {Array<string>} notices What the account must fix, said once (not per row).
 * @property {number} finishedAt When it ended (ms; 0 while going).
 * @property {string} message
 * @property {?{message: string, fix: string}} error
 * @property {string} lane 'async' (the sidebar then shows sent and waiting rows) or 'sync'.
 */

/** Document property holding the current (or last) run, as JSON. */
const RUN_PROPERTY = 'PRONTO_RUN';

/** A driver (page or timer) holds a run this long at most per chunk (ms). */
const RUN_LEASE_MS = 150000;

/** No step for this long and the page is taken to be closed: the timer continues (ms). */
const RUN_PAGE_GONE_MS = 90000;

/**
 * The saved run.
 * @return {?RunState} The run, or null.
 */
function readRun_() {
  return readDocumentState_(RUN_PROPERTY);
}

/**
 * Saves a run.
 * @param {RunState} run The run.
 */
function writeRun_(run) {
  writeDocumentState_(RUN_PROPERTY, run);
}

/**
 * Whether a run is still going.
 * @param {?RunState} run The run.
 * @return {boolean} True while running or collecting.
 */
function runActive_(run) {
  return run !== null && (run.status === 'running' || run.status === 'collecting');
}

/**
 * Takes a run for one step, when it is going, is a chunked run, and nobody else holds it.
 * @param {string} id The run's id.
 * @param {string} driver 'sidebar' or 'timer'.
 * @return {?RunState} The run, held; null when it is not this driver's to move.
 */
function leaseRun_(id, driver) {
  return withDocumentLock_(10000, function() {
    const run = readRun_();
    const now = Date.now();
    if (!run || run.id !== id || !runActive_(run) || run.mode !== 'script') {
      return null;
    }
    if (run.leaseUntil > now && run.leaseBy !== driver) {
      return null;
    }
    if (run.cancelRequested) {
      run.status = 'cancelled';
      run.finishedAt = now;
      writeRun_(run);
      return null;
    }
    run.leaseUntil = now + RUN_LEASE_MS;
    run.leaseBy = driver;
    run.driver = driver;
    run.updatedAt = now;
    writeRun_(run);
    return run;
  });
}

/**
 * Saves what a step did and frees the run (a Cancel pressed meanwhile is kept).
 * @param {RunState} run The run as the step left it.
 */
function releaseRun_(run) {
  updateRun_(run.id, function(saved) {
    const cancel = saved.cancelRequested;
    Object.assign(saved, run);
    saved.cancelRequested = cancel;
    if (cancel && runActive_(saved)) {
      saved.status = 'cancelled';
      saved.finishedAt = Date.now();
    }
    saved.leaseUntil = 0;
    saved.leaseBy = '';
    saved.updatedAt = Date.now();
  });
}

/**
 * Changes the saved run under the document lock, if it is still this run.
 * @param {string} id The run's id.
 * @param {function(RunState): void} change Changes the saved run in place.
 */
function updateRun_(id, change) {
  return withDocumentLock_(10000, function() {
    const saved = readRun_();
    if (saved && saved.id === id) {
      change(saved);
      writeRun_(saved);
    }
  });
}

/**
 * The sheet of a run, found by id (a renamed sheet is still found).
 * @param {RunState} run The run.
 * @return {?GoogleAppsScript.Spreadsheet.Sheet} The sheet.
 */
function runSheet_(run) {
  const sheets = SpreadsheetApp.getActiveSpreadsheet().getSheets();
  for (let i = 0; i < sheets.length; i++) {
    if (sheets[i].getSheetId() === run.sheetId) {
      return sheets[i];
    }
  }
  return null;
}

/**
 * For the timer: whether the saved run needs it (a chunked run whose sidebar is
 * gone, or a fill handed to the function to watch).
 * @param {?RunState} run The run.
 * @param {number} now The time (ms).
 * @return {boolean} True when the timer should move it.
 */
function runNeedsTimer_(run, now) {
  return runActive_(run) && runAbandoned_(/** @type {RunState} */ (run), now);
}

/**
 * Whether nobody moves a going run: no lease, and no step for a while.
 * @param {RunState} run The run.
 * @param {number} now The time (ms).
 * @return {boolean} True when abandoned.
 */
function runAbandoned_(run, now) {
  if (run.mode === 'server') {
    return now - run.updatedAt > RUN_PAGE_GONE_MS;
  }
  return run.leaseUntil <= now && now - run.updatedAt > RUN_PAGE_GONE_MS;
}

/**
 * What the sidebar shows of a run.
 * @param {RunState} run The run.
 * @return {RunView} The view.
 */
function runView_(run) {
  const now = Date.now();
  const total = run.mode === 'server' ? run.queued : run.lastRow - run.firstRow + 1;
  let done = run.mode === 'server' ? run.queued - run.queuedLeft :
    Math.min(run.nextRow, run.lastRow + 1) - run.firstRow;
  if (!runActive_(run) && run.status === 'done') {
    done = total;
  }
  /** @type {Object<string, number>} */
  const counts = {};
  COUNTS.forEach(function(count) {
    counts[count.name] = run.totals[count.name] || 0;
  });
  return {
    id: run.id, mode: run.mode, status: run.status, active: runActive_(run),
    background: runActive_(run) && (run.mode === 'server' || (run.leaseBy === 'timer' &&
      run.leaseUntil > now)),
    by: run.by, mine: run.by === currentUserEmail_(), sheetName: run.sheetName, scope: run.scope,
    firstRow: run.firstRow, lastRow: run.lastRow, types: run.types, mapping: run.mapping,
    done: done, total: total, percent: total ? Math.round(done * 100 / total) : 100,
    counts: counts, creditsSpentToday: run.creditsSpentToday, creditBudget: run.creditBudget,
    waitingForTomorrow: run.waitingForTomorrow, notices: Object.keys(run.notices || {})
        .filter(function(code) {
          return code !== 'over_budget'; // the run's own message says so, with the rows left
        }).map(function(code) {
          return run.notices[code];
        }),
    finishedAt: run.finishedAt, message: run.message,
    error: run.error, lane: run.lane === 'async' ? 'async' : 'sync',
  };
}
