/**
 * Runs: what the sidebar calls to enrich the rows chosen, in a way that outlives the
 * sidebar (the run is saved, RunState.js): start, step, cancel and look. A run is
 * done one of two ways:
 * - when the function can open the spreadsheet (shared with its service account),
 *   it is POST /fill on the chosen rows (ServerRun.js);
 * - otherwise the page sends the rows chunk by chunk (ChunkedRun.js), and when the
 *   page is gone the Pronto timer continues from the saved row.
 */

/**
 * Sidebar "Enrich selected rows" (or "Enrich whole sheet"): saves the run and starts it. When the function can open the
 * spreadsheet it fills the rows itself (this call waits for it, up to the minute
 * UrlFetchApp waits; the fill goes on after); otherwise the page sends chunks
 * with stepRun.
 * @param {{sheetName: string, scope?: string, firstRow: number, lastRow: number, mapping: ColumnMapping, types: Array<string>}} request
 *     What to enrich.
 * @return {?RunView} The run.
 */
function startRun(request) {
  const types = checkedTypes_(request && request.types);
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getSheetByName(request.sheetName);
  if (!sheet) {
    throw new Error('The sheet "' + request.sheetName + '" no longer exists: reopen Pronto ▸ ' +
        'Enrich rows.');
  }
  const table = openTable_(sheet, request.mapping || null);
  const firstRow = Math.max(Number(request.firstRow) || 0, table.headerRow + 1);
  const lastRow = Math.min(Number(request.lastRow) || 0, Math.max(sheet.getLastRow(), firstRow));
  const run = withDocumentLock_(10000, function() {
    const current = readRun_();
    if (runActive_(current) && !runAbandoned_(/** @type {RunState} */ (current), Date.now())) {
      const other = /** @type {RunState} */ (current);
      throw new Error('A run started by ' + (other.by || 'someone') + ' is still going on "' +
          other.sheetName + '": wait for it, or cancel it in this sidebar.');
    }
    saveMapping_(sheet, table.mapping);
    const estimate = estimateRows_(readRows_(table, firstRow, lastRow, types), types, creditCosts_());
    const now = Date.now();
    /** @type {RunState} */
    const run = {
      id: Utilities.getUuid(), by: currentUserEmail_(), mode: 'script', status: 'running',
      sheetName: sheet.getName(), sheetId: sheet.getSheetId(),
      scope: request.scope === 'sheet' ? 'sheet' : 'selection', headerRow: table.headerRow,
      firstRow: firstRow,
      lastRow: lastRow, mapping: table.mapping, types: types, nextRow: firstRow,
      toEnrich: estimate.toEnrich, baseline: {}, queued: 0, queuedLeft: 0, totals: emptyCounts_(),
      pendingRows: [], pendingOverflow: 0, collectAttempts: 0, creditsSpentToday: null,
      creditBudget: null, waitingForTomorrow: 0, notices: {}, cancelRequested: false, leaseUntil: 0,
      leaseBy: '', driver: 'sidebar', startedAt: now, updatedAt: now, changedAt: now,
      finishedAt: 0, message: '', error: null,
    };
    writeRun_(run);
    return run;
  });
  const timer = ensureTimerQuietly_();
  if (timer.problem) {
    // Said while the run goes: without a timer it goes on only while the sidebar is open.
    run.message = timer.problem;
    updateRun_(run.id, function(saved) {
      saved.message = timer.problem;
    });
  }
  if (serverCanFill_(sheet, run)) {
    startServerRun_(sheet, table, run);
    return getRunView();
  }
  return runView_(run);
}

/**
 * Sidebar: sends the next chunk of a run (or collects rows still searched), unless
 * the timer holds it; for a run the function fills, reads its progress.
 * @param {string} id The run's id.
 * @return {?RunView} The run after the step.
 */
function stepRun(id) {
  const run = leaseRun_(id, 'sidebar');
  if (!run) {
    return getRunView();
  }
  try {
    advanceRun_(run, 'sidebar');
  } finally {
    releaseRun_(run);
  }
  return getRunView();
}

/**
 * Sidebar "Cancel": the run stops after the chunk being sent (rows done are kept).
 * A fill handed to the function cannot be stopped from here.
 * @param {string} id The run's id.
 * @return {?RunView} The run.
 */
function cancelRun(id) {
  updateRun_(id, function(saved) {
    if (!runActive_(saved)) {
      return;
    }
    if (saved.mode === 'server') {
      saved.message = 'The Pronto function is filling these rows on its side; it cannot be ' +
          'stopped from here. Rows it fills are not paid twice.';
      return;
    }
    saved.cancelRequested = true;
    if (saved.leaseUntil <= Date.now()) {
      saved.status = 'cancelled';
      saved.finishedAt = Date.now();
    }
  });
  return getRunView();
}

/**
 * The current (or last) run as the sidebar shows it; for a run the function
 * fills, its progress read from the sheet (and its end, once nothing is queued).
 * @return {?RunView} The run, or null when there has been none.
 */
function getRunView() {
  const run = readRun_();
  if (!run) {
    return null;
  }
  if (run.mode === 'server' && runActive_(run)) {
    trackServerRun_(run);
  }
  return runView_(/** @type {RunState} */ (readRun_()));
}

/**
 * The timer's part: continues a run whose sidebar was closed, chunk by chunk
 * until the deadline, within the day's trigger time.
 * @param {number} deadline No chunk starts after this (ms).
 * @return {string} What was done, in words (for the execution log).
 */
function continueRunInBackground_(deadline) {
  const saved = readRun_();
  if (!saved || !runActive_(saved)) {
    return 'no run';
  }
  if (saved.mode === 'server') {
    trackServerRun_(saved);
    return 'watched the fill';
  }
  if (!triggerTimeLeft_(deadline - Date.now())) {
    updateRun_(saved.id, function(run) {
      run.message = 'Paused: the Pronto timer used its trigger time for today; it goes on ' +
          'tomorrow, or open the sidebar to go on now.';
    });
    return 'no trigger time left';
  }
  let chunks = 0;
  while (Date.now() + RUN_CHUNK_MAX_MS < deadline) {
    const run = leaseRun_(saved.id, 'timer');
    if (!run) {
      break;
    }
    try {
      advanceRun_(run, 'timer');
      run.message = run.message || '';
    } finally {
      releaseRun_(run);
    }
    chunks++;
    if (!runActive_(readRun_())) {
      break;
    }
  }
  return chunks + ' chunk(s)';
}
