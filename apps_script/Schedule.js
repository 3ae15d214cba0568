/**
 * Schedule: a time-driven trigger (hourly or daily) that refreshes one sheet.
 *
 * Each run first asks the function to fill the sheet itself (POST /fill), which
 * works when the sheet is shared with the function's service account. When it
 * is not, the run enriches the rows without results here, in chunks, stops well
 * inside Apps Script's 6-minute limit and remembers the next row, so the next
 * run resumes where this one stopped.
 */

/** The function the trigger runs. */
const SCHEDULE_HANDLER = 'runScheduledRefresh';
/** Document property holding the schedule and its progress (JSON). */
const SCHEDULE_PROPERTY = 'PRONTO_SCHEDULE';
/** Frequencies offered in the dialog. */
const SCHEDULE_FREQUENCIES = ['hourly', 'daily'];
/** Hour of day (script time zone) of a daily refresh. */
const DAILY_HOUR = 5;
/** Rows per chunk of an in-script refresh. */
const SCHEDULE_CHUNK_ROWS = 100;
/** Seconds the function may take per chunk (UrlFetchApp gives up after 60 s). */
const SCHEDULE_TIMEOUT_S = 40;
/** No chunk starts after this many milliseconds: a chunk lasts at most about a minute, runs 6. */
const RUN_BUDGET_MS = 270000;

/**
 * The saved schedule of this spreadsheet.
 * @typedef {Object} ScheduleState
 * @property {string} sheetName The sheet refreshed.
 * @property {string} frequency 'hourly' or 'daily'.
 * @property {Array<string>} types The enrichment types.
 * @property {number} nextRow Where the next in-script run starts (0: from the top).
 * @property {?Object} lastRun What the last run did ({at, mode, message, ...counts}).
 */

/**
 * What the Schedule dialog shows.
 * @typedef {Object} ScheduleView
 * @property {Array<string>} sheets The spreadsheet's sheet names.
 * @property {?ScheduleState} schedule The schedule, or null.
 * @property {number} triggers Installed refresh triggers (0 or 1).
 */

/**
 * Menu "Schedule refresh…": opens the dialog.
 */
function showScheduleDialog() {
  const html = page_('Schedule').setWidth(420).setHeight(380);
  SpreadsheetApp.getUi().showModalDialog(html, 'Schedule refresh');
}

/**
 * Reads the saved schedule.
 * @return {?ScheduleState} The schedule, or null.
 */
function readSchedule_() {
  const text = PropertiesService.getDocumentProperties().getProperty(SCHEDULE_PROPERTY);
  if (!text) {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Saves the schedule.
 * @param {ScheduleState} schedule The schedule.
 */
function writeSchedule_(schedule) {
  PropertiesService.getDocumentProperties().setProperty(SCHEDULE_PROPERTY,
      JSON.stringify(schedule));
}

/**
 * The refresh triggers installed for this script and user.
 * @return {Array<GoogleAppsScript.Script.Trigger>} The triggers.
 */
function refreshTriggers_() {
  return ScriptApp.getProjectTriggers().filter(function(trigger) {
    return trigger.getHandlerFunction() === SCHEDULE_HANDLER;
  });
}

/**
 * Schedule dialog: what is scheduled now.
 * @return {ScheduleView} The view.
 */
function getScheduleView() {
  return {
    sheets: SpreadsheetApp.getActiveSpreadsheet().getSheets().map(function(sheet) {
      return sheet.getName();
    }),
    schedule: readSchedule_(),
    triggers: refreshTriggers_().length,
  };
}

/**
 * Schedule dialog "Save": installs the one refresh trigger (replacing any
 * earlier one, so scheduling twice still leaves one).
 * @param {{sheetName: string, frequency: string, types?: Array<string>}} request The choice.
 * @return {ScheduleView} The view after saving.
 */
function scheduleRefresh(request) {
  const frequency = request && request.frequency;
  if (SCHEDULE_FREQUENCIES.indexOf(frequency) === -1) {
    throw new Error('Choose how often to refresh: hourly or daily.');
  }
  const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(request.sheetName);
  if (!sheet) {
    throw new Error('There is no sheet named "' + request.sheetName + '": pick one from the list.');
  }
  openTable_(sheet);
  const lock = LockService.getScriptLock();
  lock.waitLock(20000);
  try {
    refreshTriggers_().forEach(function(trigger) {
      ScriptApp.deleteTrigger(trigger);
    });
    const builder = ScriptApp.newTrigger(SCHEDULE_HANDLER).timeBased();
    if (frequency === 'hourly') {
      builder.everyHours(1).create();
    } else {
      builder.everyDays(1).atHour(DAILY_HOUR).create();
    }
    const previous = readSchedule_();
    writeSchedule_({
      sheetName: sheet.getName(),
      frequency: frequency,
      types: request.types && request.types.length ? request.types : ['email'],
      nextRow: previous && previous.sheetName === sheet.getName() ? previous.nextRow : 0,
      lastRun: previous ? previous.lastRun : null,
    });
  } finally {
    lock.releaseLock();
  }
  return getScheduleView();
}

/**
 * Schedule dialog "Remove": deletes the refresh trigger and the schedule.
 * @return {ScheduleView} The view after removing.
 */
function unscheduleRefresh() {
  refreshTriggers_().forEach(function(trigger) {
    ScriptApp.deleteTrigger(trigger);
  });
  PropertiesService.getDocumentProperties().deleteProperty(SCHEDULE_PROPERTY);
  return getScheduleView();
}

/**
 * The trigger's function: refreshes the scheduled sheet, on the server when it
 * can, else here, resuming where the last run stopped.
 * @param {Object} [event] The time-driven event (unused).
 * @return {?Object} What the run did (also saved as the schedule's lastRun).
 */
function runScheduledRefresh(event) { // eslint-disable-line no-unused-vars
  const started = Date.now();
  const runLock = LockService.getScriptLock();
  if (!runLock.tryLock(1000)) {
    return null;
  }
  try {
    const schedule = readSchedule_();
    if (!schedule) {
      refreshTriggers_().forEach(function(trigger) {
        ScriptApp.deleteTrigger(trigger);
      });
      return null;
    }
    /** @type {Object} */
    let outcome;
    try {
      const sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName(schedule.sheetName);
      if (!sheet) {
        throw new Error('The scheduled sheet "' + schedule.sheetName + '" was renamed or ' +
            'deleted: choose it again in Pronto ▸ Schedule refresh….');
      }
      outcome = fillOnServer_(sheet, schedule) || refreshHere_(sheet, schedule, started);
    } catch (e) {
      const latest = readSchedule_() || schedule;
      latest.lastRun = {at: new Date().toISOString(), mode: 'error',
        message: /** @type {Error} */ (e).message};
      writeSchedule_(latest);
      throw e;
    }
    const latest = readSchedule_() || schedule;
    latest.lastRun = outcome;
    writeSchedule_(latest);
    if (/** @type {*} */ (outcome).mode === 'error') {
      // A failed trigger run makes Apps Script e-mail its owner this sentence.
      throw new Error(/** @type {*} */ (outcome).message);
    }
    return outcome;
  } finally {
    runLock.releaseLock();
  }
}

/**
 * Asks the function to fill the sheet itself (POST /fill).
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ScheduleState} schedule The schedule.
 * @return {?Object} What the run did, or null when the function cannot open the
 *     sheet (not shared with its service account) and the rows are done here instead.
 */
function fillOnServer_(sheet, schedule) {
  try {
    const summary = callFunction_('POST', '/fill', {
      spreadsheet_id: SpreadsheetApp.getActiveSpreadsheet().getId(),
      sheet: sheet.getName(),
      enrichment_type: schedule.types,
    }, {auth: 'auto'});
    return {at: new Date().toISOString(), mode: 'server', message: 'Filled on the server.',
      summary: summary};
  } catch (e) {
    const error = /** @type {*} */ (e);
    if (error.code === 'timeout') {
      return {at: new Date().toISOString(), mode: 'server', message: error.message};
    }
    if (error.code === 'sheet_not_shared' || error.httpStatus === 404 || error.httpStatus >= 500) {
      return null;
    }
    throw e;
  }
}

/**
 * Enriches the rows without results here, chunk by chunk from the saved row,
 * saving progress after each chunk and stopping before the 6-minute limit.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ScheduleState} schedule The schedule.
 * @param {number} started When the run started (Date.now()).
 * @return {Object} What the run did.
 */
function refreshHere_(sheet, schedule, started) {
  const table = openTable_(sheet);
  const firstRow = table.headerRow + 1;
  const lastRow = sheet.getLastRow();
  const totals = {rows: 0, enriched: 0, found: 0, notFound: 0, invalid: 0, pending: 0,
    failed: 0, overBudget: 0, calls: 0};
  let cursor = schedule.nextRow >= firstRow && schedule.nextRow <= lastRow ?
    schedule.nextRow : firstRow;
  const startRow = cursor;
  let wrapped = false;
  let complete = lastRow < firstRow;
  let message = '';
  while (!complete && Date.now() - started < RUN_BUDGET_MS) {
    const end = Math.min(cursor + SCHEDULE_CHUNK_ROWS - 1, wrapped ? startRow - 1 : lastRow);
    const summary = enrichRows_(table, cursor, end, schedule.types,
        {priority: 'background', timeoutS: SCHEDULE_TIMEOUT_S});
    Object.keys(totals).forEach(function(name) {
      /** @type {*} */ (totals)[name] += /** @type {*} */ (summary)[name] || 0;
    });
    cursor = end + 1;
    if (!wrapped && cursor > lastRow) {
      wrapped = startRow > firstRow;
      complete = !wrapped;
      cursor = firstRow;
    } else if (wrapped && cursor >= startRow) {
      complete = true;
    }
    saveProgress_(complete ? 0 : cursor);
    if (summary.stop) {
      message = summary.stop;
      break;
    }
  }
  return {
    at: new Date().toISOString(),
    mode: message ? 'error' : 'script',
    message: message || (complete ? 'Every row was looked at.' :
      'Stopped at row ' + cursor + ' to stay inside the 6-minute limit; the next run ' +
      'continues from there.'),
    complete: complete,
    nextRow: complete ? 0 : cursor,
    counts: totals,
  };
}

/**
 * Saves where the next run starts (0: from the top).
 * @param {number} nextRow The row.
 */
function saveProgress_(nextRow) {
  const schedule = readSchedule_();
  if (schedule) {
    schedule.nextRow = nextRow;
    writeSchedule_(schedule);
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {showScheduleDialog, getScheduleView, scheduleRefresh, unscheduleRefresh,
    runScheduledRefresh};
}
