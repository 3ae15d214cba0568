/**
 * ChunkedRun: a run Apps Script does itself, chunk by chunk (Chunks.js): the page
 * sends a step at a time (stepRun), and when the page is gone the Pronto timer goes on
 * from the saved row. A run stops at the first chunk over the credit budget and says
 * how many rows wait for tomorrow; rows Pronto was still searching are collected (a
 * few passes, free: the function caches the answers) before Done.
 */

/** Rows per chunk: one google.script.run call, and one /enrich call per set of types left to ask. */
const RUN_CHUNK_ROWS = 50;

/** Seconds the function may take per chunk (UrlFetchApp gives up after about 60 s). */
const RUN_TIMEOUT_S = 40;

/** A chunk can take this long: no chunk starts with less time left (ms). */
const RUN_CHUNK_MAX_MS = 70000;

/** Passes made over rows Pronto was still searching before the run ends. */
const COLLECT_ATTEMPTS = 3;

/** Rows still searched that a run remembers (a property holds at most 9 KB). */
const MAX_PENDING_ROWS = 300;

/**
 * One step of a chunked run: the next chunk, or a pass over the rows still searched.
 * Errors end the run with their sentence.
 * @param {RunState} run The run (changed in place).
 * @param {string} driver Who moves it.
 */
function advanceRun_(run, driver) {
  try {
    const sheet = runSheet_(run);
    if (!sheet) {
      throw new Error('The sheet "' + run.sheetName + '" was deleted: nothing more was written.');
    }
    const table = openTable_(sheet, run.mapping);
    if (run.status === 'running') {
      sendChunk_(run, table);
    } else {
      collectPending_(run, table);
    }
  } catch (e) {
    const error = /** @type {*} */ (e);
    run.status = 'failed';
    run.error = {message: error.message, fix: error.fix || ''};
    run.finishedAt = Date.now();
  }
  run.driver = driver;
}

/**
 * Sends the next chunk of a run and decides what comes next.
 * @param {RunState} run The run (changed in place).
 * @param {SheetTable} table Its table.
 */
function sendChunk_(run, table) {
  const job = chunkJob_(table, run.types, run.nextRow, run.lastRow,
      {chunkRows: RUN_CHUNK_ROWS, priority: 'batch', timeoutS: RUN_TIMEOUT_S}, run.totals);
  let chunks = 0;
  const stop = runChunks_(job, function() {
    return chunks++ === 0; // one chunk per step: the page (or the timer) asks for the next
  });
  run.nextRow = job.nextRow;
  rememberPending_(run, job.pendingRows);
  noteCredits_(run, job);
  if (stop && stop.overBudget) {
    run.waitingForTomorrow = stop.waiting;
    run.status = 'stopped';
    run.message = 'The daily credit budget is used up: ' + formatCount_(run.waitingForTomorrow) +
        ' row(s) wait for tomorrow. Enrich them again tomorrow (or once your admin raises ' +
        'the budget): rows already done are not paid again.';
    run.finishedAt = Date.now();
  } else if (stop) {
    run.status = 'stopped';
    run.error = {message: stop.message, fix: ''};
    run.finishedAt = Date.now();
  } else if (run.nextRow > run.lastRow) {
    finishOrCollect_(run);
  }
}

/**
 * Asks again about the rows Pronto was still searching (free: the function kept
 * the lookups going and caches their answers).
 * @param {RunState} run The run (changed in place).
 * @param {SheetTable} table Its table.
 */
function collectPending_(run, table) {
  const rows = run.pendingRows.slice();
  run.collectAttempts++;
  const summary = enrichRows_(table, Math.min.apply(null, rows), Math.max.apply(null, rows),
      run.types, {priority: 'batch', timeoutS: RUN_TIMEOUT_S, onlyRows: rows});
  // These rows were counted once already: as rows, as duplicates, and as pending.
  addCounts_(run.totals, summary, ['pending', 'filled', 'duplicates']);
  run.pendingRows = [];
  rememberPending_(run, summary.pendingRows);
  run.totals.pending = run.pendingRows.length + run.pendingOverflow;
  noteCredits_(run, summary);
  finishOrCollect_(run);
}

/**
 * After the last chunk: collect rows still searched (a few passes), else done.
 * @param {RunState} run The run (changed in place).
 */
function finishOrCollect_(run) {
  if (run.pendingRows.length && run.collectAttempts < COLLECT_ATTEMPTS) {
    run.status = 'collecting';
    return;
  }
  run.status = 'done';
  run.finishedAt = Date.now();
  if (run.totals.pending) {
    run.message = formatCount_(run.totals.pending) + ' row(s) are still being searched by ' +
        'Pronto: enrich them again in a few minutes to collect them (no extra credit).';
  }
}

/**
 * Adds rows still searched to those a run remembers (up to MAX_PENDING_ROWS).
 * @param {RunState} run The run (changed in place).
 * @param {Array<number>} rows The rows.
 */
function rememberPending_(run, rows) {
  rows.forEach(function(row) {
    if (run.pendingRows.length < MAX_PENDING_ROWS) {
      run.pendingRows.push(row);
    } else {
      run.pendingOverflow++;
    }
  });
}

/**
 * Keeps the function's credit figures and notices from a chunk.
 * @param {RunState} run The run (changed in place).
 * @param {{notices: Object<string, string>, creditsSpentToday: ?number, creditBudget: ?number}} summary
 *     What the chunk (or the job) saw.
 */
function noteCredits_(run, summary) {
  run.notices = Object.assign({}, run.notices || {}, summary.notices);
  if (summary.creditsSpentToday !== null && summary.creditsSpentToday !== undefined) {
    run.creditsSpentToday = summary.creditsSpentToday;
    run.creditBudget = summary.creditBudget;
  }
}
