/**
 * Runs: enriching the rows chosen in the sidebar, in a way that outlives the
 * sidebar. The run's state is saved in Document Properties, so whoever opens the
 * sidebar sees it, and it goes on without the page:
 * - when the function can open the spreadsheet (shared with its service account),
 *   the run is POST /fill on the chosen rows: the function fills them itself and
 *   goes on after UrlFetchApp stops waiting (about a minute); rows handed to it
 *   show "pending: queued for the Pronto function" until it writes them, which is
 *   how the sidebar measures progress;
 * - otherwise the page sends the rows chunk by chunk (stepRun), and when the page
 *   is gone the Pronto timer (Timer.js) continues from the saved row.
 * A run stops at the first chunk over the credit budget and says how many rows
 * wait for tomorrow; rows Pronto was still searching are collected before Done.
 */

/** Document property holding the current (or last) run, as JSON. */
const RUN_PROPERTY = 'PRONTO_RUN';
/** Document property holding the column mapping picked for each sheet (by sheet id). */
const MAPPING_PROPERTY = 'PRONTO_MAPPINGS';
/** Rows per chunk: one google.script.run call, and one /enrich call per set of types left to ask. */
const RUN_CHUNK_ROWS = 50;
/** Seconds the function may take per chunk (UrlFetchApp gives up after about 60 s). */
const RUN_TIMEOUT_S = 40;
/** A driver (page or timer) holds a run this long at most per chunk (ms). */
const RUN_LEASE_MS = 150000;
/** No step for this long and the page is taken to be closed: the timer continues (ms). */
const RUN_PAGE_GONE_MS = 90000;
/** A chunk can take this long: no chunk starts with less time left (ms). */
const RUN_CHUNK_MAX_MS = 70000;
/** Passes made over rows Pronto was still searching before the run ends. */
const COLLECT_ATTEMPTS = 3;
/** Rows still searched that a run remembers (a property holds at most 9 KB). */
const MAX_PENDING_ROWS = 300;
/** A fill handed to the function that shows no progress for this long has stopped (ms). */
const SERVER_STALL_MS = 15 * 60000;

/** The counts a run keeps, in the order people read them. */
const RUN_COUNTS = ['found', 'notFound', 'invalid', 'needsLinkedin', 'paused', 'pending', 'failed',
  'overBudget', 'changed', 'filled', 'duplicates'];

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
 * @property {string} queuedRows Rows handed to the function, as "2-40,45" (server mode).
 * @property {number} queued How many.
 * @property {number} queuedLeft How many still wait (server mode).
 * @property {Object<string, number>} totals Counts by RUN_COUNTS name.
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
 */

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
 * The column mapping picked for a sheet in the sidebar, if any.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @return {?ColumnMapping} The mapping.
 */
function savedMapping_(sheet) {
  try {
    const all = JSON.parse(PropertiesService.getDocumentProperties().getProperty(MAPPING_PROPERTY) ||
        '{}');
    return all[String(sheet.getSheetId())] || null;
  } catch {
    return null;
  }
}

/**
 * Remembers the column mapping used for a sheet (the schedule uses it).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ColumnMapping} mapping The mapping.
 */
function saveMapping_(sheet, mapping) {
  const properties = PropertiesService.getDocumentProperties();
  /** @type {Object<string, ColumnMapping>} */
  let all = {};
  try {
    all = JSON.parse(properties.getProperty(MAPPING_PROPERTY) || '{}');
  } catch {
    all = {};
  }
  all[String(sheet.getSheetId())] = mapping;
  properties.setProperty(MAPPING_PROPERTY, JSON.stringify(all));
}

/**
 * Sidebar "Start": saves the run and starts it. When the function can open the
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
  const lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  /** @type {RunState} */
  let run;
  try {
    const current = readRun_();
    if (runActive_(current) && !runAbandoned_(/** @type {RunState} */ (current), Date.now())) {
      const other = /** @type {RunState} */ (current);
      throw new Error('A run started by ' + (other.by || 'someone') + ' is still going on "' +
          other.sheetName + '": wait for it, or cancel it in this sidebar.');
    }
    saveMapping_(sheet, table.mapping);
    const estimate = estimateRows_(readRows_(table, firstRow, lastRow, types), types, creditCosts_());
    const now = Date.now();
    run = {
      id: Utilities.getUuid(), by: currentUserEmail_(), mode: 'script', status: 'running',
      sheetName: sheet.getName(), sheetId: sheet.getSheetId(),
      scope: request.scope === 'sheet' ? 'sheet' : 'selection', headerRow: table.headerRow,
      firstRow: firstRow,
      lastRow: lastRow, mapping: table.mapping, types: types, nextRow: firstRow,
      toEnrich: estimate.toEnrich, queuedRows: '', queued: 0, queuedLeft: 0, totals: emptyTotals_(),
      pendingRows: [], pendingOverflow: 0, collectAttempts: 0, creditsSpentToday: null,
      creditBudget: null, waitingForTomorrow: 0, notices: {}, cancelRequested: false, leaseUntil: 0,
      leaseBy: '', driver: 'sidebar', startedAt: now, updatedAt: now, changedAt: now,
      finishedAt: 0, message: '', error: null,
    };
    writeRun_(run);
  } finally {
    lock.releaseLock();
  }
  ensureTimerQuietly_();
  if (serverCanFill_(sheet, run)) {
    return startServerRun_(sheet, table, run);
  }
  return runView_(run);
}

/**
 * Asks the function whether it can open this spreadsheet (a dry run of POST /fill
 * on the run's rows: it reads, writes nothing and spends nothing).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {RunState} run The run.
 * @return {boolean} True when it can fill the rows itself.
 */
function serverCanFill_(sheet, run) {
  try {
    callFunction_('POST', '/fill', fillBody_(sheet, run, true), {auth: 'auto'});
    return true;
  } catch {
    return false; // Not shared, no Google credentials on the function, ...: Apps Script does it.
  }
}

/**
 * The body of POST /fill for a run's rows.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {RunState} run The run.
 * @param {boolean} dryRun Count only.
 * @return {Object} The body.
 */
function fillBody_(sheet, run, dryRun) {
  /** @type {Object<string, *>} */
  const body = {
    spreadsheet_id: SpreadsheetApp.getActiveSpreadsheet().getId(),
    sheet: sheet.getName(),
    enrichment_type: run.types,
    first_row: run.firstRow,
    last_row: run.lastRow,
    // The sidebar knows the header row: column letters alone could not tell the function.
    header_row: run.headerRow,
    columns: fillColumns_(checkedMapping_(run.mapping, Infinity)),
  };
  if (dryRun) {
    body.dry_run = true;
  }
  return body;
}

/**
 * The columns POST /fill takes for a mapping: each input field present, by letter.
 * @param {ColumnMapping} mapping The mapping.
 * @return {Object<string, string>} e.g. {firstname: 'A', domain: 'C'}.
 */
function fillColumns_(mapping) {
  /** @type {Object<string, string>} */
  const columns = {};
  Object.keys(mapping).forEach(function(field) {
    if (mapping[field] !== -1) {
      columns[field] = columnLetter_(mapping[field]);
    }
  });
  return columns;
}

/**
 * Hands the run's rows to the function: marks those to enrich as queued (so
 * progress can be read from the sheet), then waits for POST /fill as long as
 * UrlFetchApp waits. The fill goes on without this call.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {SheetTable} table The table.
 * @param {RunState} run The run.
 * @return {?RunView} The run.
 */
function startServerRun_(sheet, table, run) {
  ensureOutputColumns_(table, run.types);
  const rows = readRows_(table, run.firstRow, run.lastRow, run.types);
  /** @type {Array<number>} */
  const queued = [];
  rows.forEach(function(state) {
    if (!state.entry.blank && state.todo.length) {
      queued.push(state.row);
    }
  });
  run.totals.filled = rows.filter(function(state) {
    return !state.entry.blank && !state.todo.length;
  }).length;
  rowRuns_(queued).forEach(function(block) {
    sheet.getRange(block.first, table.outputs[PRONTO_STATUS_FIELD] + 1, block.last - block.first + 1, 1)
        .setValues(Array(block.last - block.first + 1).fill([QUEUED_STATUS_TEXT]));
  });
  SpreadsheetApp.flush();
  run.mode = 'server';
  run.driver = 'function';
  run.queuedRows = rowRuns_(queued).map(function(block) {
    return block.first === block.last ? String(block.first) : block.first + '-' + block.last;
  }).join(',');
  run.queued = queued.length;
  run.queuedLeft = queued.length;
  updateRun_(run.id, function(saved) {
    Object.assign(saved, run);
  });
  try {
    const summary = callFunction_('POST', '/fill', fillBody_(sheet, run, false), {auth: 'auto'});
    finishServerRun_(run.id, summary);
  } catch (e) {
    const error = /** @type {*} */ (e);
    if (error.code !== 'timeout') {
      unqueueRows_(run);
      updateRun_(run.id, function(saved) {
        saved.status = 'failed';
        saved.error = {message: error.message, fix: error.fix || ''};
        saved.finishedAt = Date.now();
      });
    }
    // A timeout: UrlFetchApp stopped waiting; the function goes on filling.
  }
  return getRunView();
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
  updateRun_(id, function(saved) {
    const totals = saved.totals;
    totals.found = summary.found || 0;
    totals.notFound = summary.not_found || 0;
    totals.invalid = summary.invalid || 0;
    totals.needsLinkedin = summary.needs_linkedin || 0;
    totals.failed = summary.failed || 0;
    totals.overBudget = summary.over_budget || 0;
    totals.duplicates = summary.duplicates || 0;
    totals.changed = summary.changed_during_run || 0;
    saved.queuedLeft = 0;
    saved.waitingForTomorrow = totals.overBudget ? totals.overBudget + (summary.remaining || 0) : 0;
    saved.notices = Object.assign({}, saved.notices || {}, summary.notices || {});
    saved.status = totals.overBudget ? 'stopped' : 'done';
    saved.message = summary.stopped ? String(summary.stopped) : '';
    saved.finishedAt = Date.now();
    saved.changedAt = saved.finishedAt;
  });
}

/**
 * Empties the status of rows still marked queued (the function did not get to
 * them): they are looked at again by the next run.
 * @param {RunState} run The run.
 */
function unqueueRows_(run) {
  const sheet = runSheet_(run);
  if (!sheet || !run.queuedRows) {
    return;
  }
  const table = openTable_(sheet, run.mapping, true);
  const column = table.outputs[PRONTO_STATUS_FIELD];
  if (column === undefined) {
    return;
  }
  parseRowRuns_(run.queuedRows).forEach(function(block) {
    const range = sheet.getRange(block.first, column + 1, block.last - block.first + 1, 1);
    const values = range.getValues();
    if (values.some(function(row) {
      return row[0] === QUEUED_STATUS_TEXT;
    })) {
      range.setValues(values.map(function(row) {
        return [row[0] === QUEUED_STATUS_TEXT ? '' : row[0]];
      }));
    }
  });
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
 * Takes a run for one step, when it is going, is a chunked run, and nobody else holds it.
 * @param {string} id The run's id.
 * @param {string} driver 'sidebar' or 'timer'.
 * @return {?RunState} The run, held; null when it is not this driver's to move.
 */
function leaseRun_(id, driver) {
  const lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  try {
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
  } finally {
    lock.releaseLock();
  }
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
  const lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  try {
    const saved = readRun_();
    if (saved && saved.id === id) {
      change(saved);
      writeRun_(saved);
    }
  } finally {
    lock.releaseLock();
  }
}

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
  const last = Math.min(run.nextRow + RUN_CHUNK_ROWS - 1, run.lastRow);
  const summary = enrichRows_(table, run.nextRow, last, run.types,
      {priority: 'batch', timeoutS: RUN_TIMEOUT_S});
  RUN_COUNTS.forEach(function(name) {
    run.totals[name] = (run.totals[name] || 0) + (/** @type {*} */ (summary)[name] || 0);
  });
  rememberPending_(run, summary.pendingRows);
  noteCredits_(run, summary);
  run.nextRow = last + 1;
  if (summary.overBudget) {
    run.waitingForTomorrow = summary.overBudget + rowsToEnrich_(table, run.nextRow, run.lastRow,
        run.types);
    run.status = 'stopped';
    run.message = 'The daily credit budget is used up: ' + formatCount_(run.waitingForTomorrow) +
        ' row(s) wait for tomorrow. Press Start again tomorrow (or once your admin raises ' +
        'the budget): rows already done are not paid again.';
    run.finishedAt = Date.now();
  } else if (summary.stop) {
    run.status = 'stopped';
    run.error = {message: summary.stop, fix: ''};
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
  ['found', 'notFound', 'invalid', 'needsLinkedin', 'paused', 'failed', 'overBudget', 'changed']
      .forEach(function(name) {
        run.totals[name] = (run.totals[name] || 0) + (/** @type {*} */ (summary)[name] || 0);
      });
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
        'Pronto: press Start again in a few minutes to collect them (no extra credit).';
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
 * @param {RowsSummary} summary The chunk's summary.
 */
function noteCredits_(run, summary) {
  run.notices = Object.assign({}, run.notices || {}, summary.notices);
  if (summary.creditsSpentToday !== null && summary.creditsSpentToday !== undefined) {
    run.creditsSpentToday = summary.creditsSpentToday;
    run.creditBudget = summary.creditBudget;
  }
}

/**
 * Rows with a contact and a type still to do, between two rows.
 * @param {SheetTable} table The table.
 * @param {number} firstRow The first row.
 * @param {number} lastRow The last row.
 * @param {Array<string>} types The types requested.
 * @return {number} How many.
 */
function rowsToEnrich_(table, firstRow, lastRow, types) {
  return readRows_(table, firstRow, lastRow, types).filter(function(state) {
    return state.entry.valid && state.todo.length > 0;
  }).length;
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
 * Reads a server run's progress from its queued rows, and ends it when none is
 * left, or when nothing moved for a long while (the function stopped).
 * @param {RunState} run The run.
 */
function trackServerRun_(run) {
  const sheet = runSheet_(run);
  const now = Date.now();
  if (!sheet) {
    updateRun_(run.id, function(saved) {
      saved.status = 'failed';
      saved.error = {message: 'The sheet "' + run.sheetName + '" was deleted.', fix: ''};
      saved.finishedAt = now;
    });
    return;
  }
  const table = openTable_(sheet, run.mapping, true);
  /** @type {Object<string, number>} */
  const counts = emptyTotals_();
  let left = 0;
  const column = table.outputs[PRONTO_STATUS_FIELD];
  parseRowRuns_(run.queuedRows).forEach(function(block) {
    const values = column === undefined ? [] : sheet.getRange(block.first,
        column + 1, block.last - block.first + 1, 1).getValues();
    values.forEach(function(row) {
      const text = String(row[0]);
      if (text === QUEUED_STATUS_TEXT) {
        left++;
        return;
      }
      const code = statusCode_(text);
      const name = {success: 'found', not_found: 'notFound', invalid: 'invalid', pending: 'pending',
        failed: 'failed', over_budget: 'overBudget'}[code];
      if (name) {
        counts[name]++;
      }
    });
  });
  updateRun_(run.id, function(saved) {
    if (!runActive_(saved)) {
      return;
    }
    ['found', 'notFound', 'invalid', 'pending', 'failed', 'overBudget'].forEach(function(name) {
      saved.totals[name] = counts[name];
    });
    if (left !== saved.queuedLeft) {
      saved.queuedLeft = left;
      saved.changedAt = now;
    }
    if (!left) {
      saved.status = counts.overBudget ? 'stopped' : 'done';
      saved.waitingForTomorrow = counts.overBudget;
      saved.finishedAt = now;
    } else if (now - saved.changedAt > SERVER_STALL_MS) {
      saved.status = 'stopped';
      saved.message = 'The Pronto function stopped before filling ' + formatCount_(left) +
          ' row(s); press Start to look at them again.';
      saved.finishedAt = now;
    }
  });
  const after = readRun_();
  if (after && after.id === run.id && !runActive_(after) && left) {
    unqueueRows_(after);
  }
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
 * Counts at zero.
 * @return {Object<string, number>} The counts.
 */
function emptyTotals_() {
  /** @type {Object<string, number>} */
  const totals = {};
  RUN_COUNTS.forEach(function(name) {
    totals[name] = 0;
  });
  return totals;
}

/**
 * Consecutive rows grouped: [2, 3, 4, 9] → [{first: 2, last: 4}, {first: 9, last: 9}].
 * @param {Array<number>} rows Row numbers, ascending.
 * @return {Array<{first: number, last: number}>} The blocks.
 */
function rowRuns_(rows) {
  /** @type {Array<{first: number, last: number}>} */
  const blocks = [];
  rows.forEach(function(row) {
    const last = blocks[blocks.length - 1];
    if (last && row === last.last + 1) {
      last.last = row;
    } else {
      blocks.push({first: row, last: row});
    }
  });
  return blocks;
}

/**
 * Reads "2-40,45" back into blocks.
 * @param {string} text The blocks as saved.
 * @return {Array<{first: number, last: number}>} The blocks.
 */
function parseRowRuns_(text) {
  return (text || '').split(',').filter(Boolean).map(function(part) {
    const bounds = part.split('-').map(Number);
    return {first: bounds[0], last: bounds.length > 1 ? bounds[1] : bounds[0]};
  });
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
  RUN_COUNTS.forEach(function(name) {
    counts[name] = run.totals[name] || 0;
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
    error: run.error,
  };
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {startRun, stepRun, cancelRun, getRunView,
    readRun_, continueRunInBackground_, savedMapping_, rowRuns_, parseRowRuns_, RUN_CHUNK_ROWS};
}
