/**
 * Schedule: one scheduled refresh per spreadsheet, saved in Document Properties so
 * that every editor sees it and who owns it. The Pronto timer (Timer.js) of its
 * owner runs it when due: saving a schedule makes the person's timer the
 * spreadsheet's, so there is never a second trigger refreshing the same sheet.
 *
 * Each run first asks the function to fill the sheet itself (POST /fill), which
 * works when the sheet is shared with the function's service account. When it is
 * not, the run enriches the rows still to do (per type) here, in chunks, within the
 * tick's time, and saves the next row, so the next run resumes there. Runs use
 * the columns picked in the sidebar for that sheet, count in the spreadsheet's time
 * zone, and are logged (last ten, with counts) for every editor to see.
 */

/** Document property holding the schedule (JSON). */
const SCHEDULE_PROPERTY = 'PRONTO_SCHEDULE';
/** Document property holding the recent runs (JSON, newest first). */
const LOG_PROPERTY = 'PRONTO_LOG';
/** Document property: when someone last looked at the log (ms); newer failures are shown on open. */
const LOG_SEEN_PROPERTY = 'PRONTO_LOG_SEEN';
/** Runs the log keeps. */
const LOG_ENTRIES = 10;
/** Rows per chunk of an in-script refresh. */
const SCHEDULE_CHUNK_ROWS = 100;
/** Seconds the function may take per chunk (UrlFetchApp gives up after about 60 s). */
const SCHEDULE_TIMEOUT_S = 40;
/** How long "Run now" may work (ms): a chunk started by then ends inside the 6-minute limit. */
const RUN_NOW_BUDGET_MS = 270000;
/** Longest a scheduled run lasts (ms): the timer's tick budget. */
const SCHEDULED_RUN_MAX_MS = 4 * 60000;
/**
 * The frequencies offered. Each fits the 90 minutes of trigger time a consumer
 * account gets per day with the longest runs (runs a day × 4 minutes, plus the
 * timer's own checks); hourly would not (24 × 4 = 96 minutes).
 */
const SCHEDULE_FREQUENCIES = [
  {id: 'every2h', label: 'Every 2 hours', hours: 2},
  {id: 'every4h', label: 'Every 4 hours', hours: 4},
  {id: 'every6h', label: 'Every 6 hours', hours: 6},
  {id: 'every12h', label: 'Every 12 hours', hours: 12},
  {id: 'daily', label: 'Every day at', hours: 24},
];
/** How early a tick may run a due refresh (ms). */
const SCHEDULE_SLACK_MS = 30000;
/** Default hour of a daily refresh, in the spreadsheet's time zone. */
const DAILY_HOUR = 5;

/**
 * The saved schedule of this spreadsheet.
 * @typedef {Object} ScheduleState
 * @property {string} owner Whose timer runs it.
 * @property {string} sheetName The sheet refreshed.
 * @property {number} sheetId Its id (survives a rename).
 * @property {string} frequency An id of SCHEDULE_FREQUENCIES.
 * @property {number} hour The hour of a daily refresh (spreadsheet time zone).
 * @property {Array<string>} types The enrichment types.
 * @property {boolean} paused
 * @property {number} nextDueAt When it runs next (ms).
 * @property {number} nextRow Where the next in-script run starts (0: from the top).
 * @property {string} timeZone The spreadsheet's time zone when saved.
 */

/**
 * One line of the log.
 * @typedef {Object} LogEntry
 * @property {number} at When (ms).
 * @property {string} by Who ran it.
 * @property {string} how 'schedule', 'run now', 'pause', 'resume' or 'skipped'.
 * @property {string} level 'ok', 'warning' or 'error'.
 * @property {string} message What happened.
 * @property {?Object<string, number>} counts Rows by outcome.
 */

/**
 * Menu "Schedule refresh…": opens the dialog.
 */
function showScheduleDialog() {
  ensureTimerQuietly_();
  const html = page_('Schedule').setWidth(460).setHeight(560);
  SpreadsheetApp.getUi().showModalDialog(html, 'Schedule refresh');
}

/**
 * Reads the saved schedule.
 * @return {?ScheduleState} The schedule, or null.
 */
function readSchedule_() {
  return readDocumentState_(SCHEDULE_PROPERTY);
}

/**
 * Saves the schedule.
 * @param {ScheduleState} schedule The schedule.
 */
function writeSchedule_(schedule) {
  writeDocumentState_(SCHEDULE_PROPERTY, schedule);
}

/**
 * The log of recent runs, newest first.
 * @return {Array<LogEntry>} The entries.
 */
function readLog_() {
  try {
    const entries = JSON.parse(PropertiesService.getDocumentProperties().getProperty(LOG_PROPERTY) ||
        '[]');
    return Array.isArray(entries) ? entries : [];
  } catch {
    return []; // A damaged log starts afresh with the next run.
  }
}

/**
 * Adds a line to the log (keeping the last LOG_ENTRIES).
 * @param {LogEntry} entry The line.
 */
function addLog_(entry) {
  const entries = [entry].concat(readLog_()).slice(0, LOG_ENTRIES);
  PropertiesService.getDocumentProperties().setProperty(LOG_PROPERTY, JSON.stringify(entries));
}

/**
 * The frequency of an id.
 * @param {string} id The id.
 * @return {?{id: string, label: string, hours: number}} The frequency.
 */
function frequencyOf_(id) {
  return SCHEDULE_FREQUENCIES.filter(function(frequency) {
    return frequency.id === id;
  })[0] || null;
}

/**
 * The next time a local clock in `timeZone` shows hour:00, after `from`.
 * @param {number} from The time to start from (ms).
 * @param {number} hour The hour (0–23).
 * @param {string} timeZone An IANA time zone.
 * @return {number} The time (ms).
 */
function nextDailyAt_(from, hour, timeZone) {
  const quarter = 15 * 60000;
  const wanted = (hour < 10 ? '0' : '') + hour + ':00';
  let at = Math.floor(from / quarter) * quarter;
  for (let step = 0; step < 4 * 49; step++) {
    at += quarter;
    if (Utilities.formatDate(new Date(at), timeZone, 'HH:mm') === wanted) {
      return at;
    }
  }
  return from + 86400000;
}

/**
 * When a schedule runs next after a run (or a save) at `from`.
 * @param {ScheduleState} schedule The schedule.
 * @param {number} from The time (ms).
 * @param {boolean} first Whether it was just saved (an interval schedule then runs at once).
 * @return {number} The time (ms).
 */
function nextDueAt_(schedule, from, first) {
  if (schedule.frequency === 'daily') {
    return nextDailyAt_(from, schedule.hour, schedule.timeZone);
  }
  const frequency = frequencyOf_(schedule.frequency);
  return first ? from : from + (frequency ? frequency.hours : 24) * 3600000;
}

/**
 * Whether the schedule should run now.
 * @param {?ScheduleState} schedule The schedule.
 * @param {number} now The time (ms).
 * @return {boolean} True when due.
 */
function scheduleDue_(schedule, now) {
  // For "every N hours", half a tick early is on time: ticks are a minute apart, and a
  // due time a few milliseconds after one must not wait for the next. "At 05:00" is not early.
  const slack = schedule !== null && schedule.frequency !== 'daily' ? SCHEDULE_SLACK_MS : 0;
  return schedule !== null && !schedule.paused && now >= schedule.nextDueAt - slack;
}

/**
 * Schedule dialog: what is scheduled, by whom, what it may cost in trigger time,
 * and the recent runs.
 * @return {Object} The view.
 */
function getScheduleView() {
  syncScheduleOwner_();
  PropertiesService.getDocumentProperties().setProperty(LOG_SEEN_PROPERTY, String(Date.now()));
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const me = currentUserEmail_();
  const schedule = readSchedule_();
  const timeZone = spreadsheet.getSpreadsheetTimeZone();
  /** @type {Object<string, boolean>} */
  const picked = {};
  spreadsheet.getSheets().forEach(function(sheet) {
    picked[sheet.getName()] = Boolean(savedMapping_(sheet));
  });
  return {
    me: me,
    sheets: spreadsheet.getSheets().map(function(sheet) {
      return sheet.getName();
    }),
    mappingsPicked: picked,
    timeZone: timeZone,
    typeOptions: enrichmentTypes_().map(function(type) {
      return {id: type.name, label: type.label};
    }),
    frequencies: SCHEDULE_FREQUENCIES.map(function(frequency) {
      return {id: frequency.id, label: frequency.label, hours: frequency.hours,
        maxMinutesPerDay: Math.round(24 / frequency.hours * SCHEDULED_RUN_MAX_MS / 60000)};
    }),
    quota: {minutesPerDay: TRIGGER_DAY_MS / 60000, workspaceHoursPerDay: 6,
      reservedMinutes: TIMER_RESERVE_MS / 60000},
    schedule: schedule ? {
      owner: schedule.owner, mine: schedule.owner === me, sheetName: schedule.sheetName,
      frequency: schedule.frequency, hour: schedule.hour, types: schedule.types,
      paused: schedule.paused, nextDue: schedule.paused ? '' :
        Utilities.formatDate(new Date(schedule.nextDueAt), timeZone, 'EEE dd HH:mm z'),
      nextRow: schedule.nextRow,
    } : null,
    timer: timerView_(readTimer_()),
    log: readLog_().map(function(entry) {
      return Object.assign({when: Utilities.formatDate(new Date(entry.at), timeZone,
          'EEE dd HH:mm')}, entry);
    }),
  };
}

/**
 * Schedule dialog "Save": one schedule per spreadsheet. Only its owner may change
 * it; saving makes the person's timer the spreadsheet's.
 * @param {{sheetName: string, frequency: string, hour?: number, types?: Array<string>}} request The choice.
 * @return {Object} The view after saving.
 */
function saveSchedule(request) {
  const me = currentUserEmail_();
  const existing = readSchedule_();
  if (existing && existing.owner && existing.owner !== me) {
    throw new Error('This spreadsheet\'s schedule belongs to ' + existing.owner + ': only they ' +
        'can change or remove it (anyone can pause it or run it now). Ask them, or have them ' +
        'remove it so you can set your own.');
  }
  const frequency = frequencyOf_(request && request.frequency);
  if (!frequency) {
    throw new Error('Choose how often to refresh: ' + SCHEDULE_FREQUENCIES.map(function(f) {
      return f.label.replace(/ at$/, '').toLowerCase();
    }).join(', ') + '.');
  }
  const hour = Number(request.hour === undefined ? DAILY_HOUR : request.hour);
  if (frequency.id === 'daily' && !(Number.isInteger(hour) && hour >= 0 && hour <= 23)) {
    throw new Error('Choose the hour of the daily refresh, from 0 to 23.');
  }
  const types = checkedTypes_(request.types);
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getSheetByName(request.sheetName);
  if (!sheet) {
    throw new Error('There is no sheet named "' + request.sheetName + '": pick one from the list.');
  }
  const table = openTable_(sheet, savedMapping_(sheet), true);
  if (table.problem) {
    throw new Error(table.problem.replace(/rename the columns, or pick them in the sidebar\.$/,
        'rename the columns, or pick them in Pronto ▸ Enrich selected rows (the schedule uses the ' +
        'columns picked there for this sheet).'));
  }
  const timer = ensureTimer_({takeOver: true});
  if (timer.problem) {
    throw new Error('The schedule needs the Pronto timer, and ' + timer.problem.charAt(0).toLowerCase() +
        timer.problem.slice(1));
  }
  /** @type {ScheduleState} */
  const schedule = {
    owner: me, sheetName: sheet.getName(), sheetId: sheet.getSheetId(), frequency: frequency.id,
    hour: hour, types: types, paused: false, nextDueAt: 0,
    nextRow: existing && existing.sheetId === sheet.getSheetId() ? existing.nextRow : 0,
    timeZone: spreadsheet.getSpreadsheetTimeZone(),
  };
  schedule.nextDueAt = nextDueAt_(schedule, Date.now(), true);
  writeSchedule_(schedule);
  return getScheduleView();
}

/**
 * Schedule dialog "Pause" / "Resume": anyone may (it never spends anything).
 * @param {boolean} paused Whether to pause.
 * @return {Object} The view.
 */
function pauseSchedule(paused) {
  const schedule = readSchedule_();
  if (!schedule) {
    throw new Error('Nothing is scheduled: there is nothing to pause.');
  }
  schedule.paused = Boolean(paused);
  if (!schedule.paused) {
    schedule.nextDueAt = Math.max(schedule.nextDueAt, Date.now());
    // A paused schedule gave the timer nothing to do, so it may have been removed.
    const timer = ensureTimerQuietly_();
    if (timer.problem) {
      throw new Error(timer.problem);
    }
  }
  writeSchedule_(schedule);
  addLog_({at: Date.now(), by: currentUserEmail_(), how: paused ? 'pause' : 'resume', level: 'ok',
    message: paused ? 'Paused.' : 'Resumed.', counts: null});
  return getScheduleView();
}

/**
 * Schedule dialog "Remove": only the owner (the timer stays for pending cells and runs).
 * @return {Object} The view.
 */
function removeSchedule() {
  const schedule = readSchedule_();
  const me = currentUserEmail_();
  if (schedule && schedule.owner && schedule.owner !== me) {
    throw new Error('This spreadsheet\'s schedule belongs to ' + schedule.owner + ': only they ' +
        'can remove it. You can pause it.');
  }
  PropertiesService.getDocumentProperties().deleteProperty(SCHEDULE_PROPERTY);
  return getScheduleView();
}

/**
 * Schedule dialog "Run now": one refresh now, as the person, logged like the others.
 * @return {Object} The view.
 */
function runScheduleNow() {
  const schedule = readSchedule_();
  if (!schedule) {
    throw new Error('Nothing is scheduled: save a schedule first.');
  }
  refreshOnce_(schedule, Date.now() + RUN_NOW_BUDGET_MS, 'run now');
  return getScheduleView();
}

/**
 * The timer's part: runs the schedule when it is due, within the day's trigger time.
 * A failed run is logged, not thrown: Google sends an add-on's users no e-mail about a
 * failed trigger (workspace/add-ons/concepts/editor-triggers), so the spreadsheet says it
 * itself, in the schedule's log and in a note when it is next opened (scheduleAlert_).
 * @param {number} deadline No chunk starts after this (ms).
 * @return {string} What was done, in words.
 */
function runScheduleIfDue_(deadline) {
  const schedule = readSchedule_();
  const now = Date.now();
  if (!scheduleDue_(schedule, now)) {
    return 'schedule not due';
  }
  const due = /** @type {ScheduleState} */ (schedule);
  if (!triggerTimeLeft_(SCHEDULED_RUN_MAX_MS)) {
    addLog_({at: now, by: currentUserEmail_(), how: 'skipped', level: 'warning',
      message: 'Skipped: the Pronto timer used the trigger time Google gives it for today; ' +
        'the next run is at the usual time.', counts: null});
    updateSchedule_(function(saved) {
      saved.nextDueAt = nextDueAt_(saved, Math.max(now, saved.nextDueAt), false);
    });
    return 'schedule skipped (trigger time)';
  }
  const entry = refreshOnce_(due, deadline, 'schedule');
  return 'schedule ' + entry.level;
}

/**
 * Changes the saved schedule, if there still is one.
 * @param {function(ScheduleState): void} change Changes it in place.
 */
function updateSchedule_(change) {
  const saved = readSchedule_();
  if (saved) {
    change(saved);
    writeSchedule_(saved);
  }
}

/**
 * Logs that a due run could not start (the previous tick was still working), once an hour at most.
 * @param {string} reason Why, in words.
 */
function noteScheduleSkipped_(reason) {
  const schedule = readSchedule_();
  const now = Date.now();
  if (!scheduleDue_(schedule, now)) {
    return;
  }
  const last = readLog_()[0];
  if (last && last.how === 'skipped' && now - last.at < 3600000) {
    return;
  }
  addLog_({at: now, by: currentUserEmail_(), how: 'skipped', level: 'warning',
    message: 'Delayed: ' + reason + '; it runs at the next minute the timer is free.', counts: null});
}

/**
 * One refresh of the scheduled sheet: on the server when it can, else here until
 * the deadline. Logs it, and sets when the next one is due.
 * @param {ScheduleState} schedule The schedule.
 * @param {number} deadline No chunk starts after this (ms).
 * @param {string} how 'schedule' or 'run now'.
 * @return {LogEntry} The log line.
 */
function refreshOnce_(schedule, deadline, how) {
  const started = Date.now();
  /** @type {LogEntry} */
  let entry;
  try {
    const sheet = scheduledSheet_(schedule);
    entry = fillOnServer_(sheet, schedule) || refreshHere_(sheet, schedule, deadline);
  } catch (e) {
    entry = {at: started, by: '', how: '', level: 'error',
      message: /** @type {Error} */ (e).message, counts: null};
  }
  entry.at = started;
  entry.by = currentUserEmail_();
  entry.how = how;
  addLog_(entry);
  updateSchedule_(function(saved) {
    if (how === 'schedule') {
      // From the due time, not the start: a run started a little early keeps the cadence.
      saved.nextDueAt = nextDueAt_(saved, Math.max(started, saved.nextDueAt), false);
    }
  });
  return entry;
}

/**
 * The scheduled sheet, found by id, else by name.
 * @param {ScheduleState} schedule The schedule.
 * @return {GoogleAppsScript.Spreadsheet.Sheet} The sheet; throws a sentence when it is gone.
 */
function scheduledSheet_(schedule) {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const byId = spreadsheet.getSheets().filter(function(sheet) {
    return sheet.getSheetId() === schedule.sheetId;
  })[0];
  const sheet = byId || spreadsheet.getSheetByName(schedule.sheetName);
  if (!sheet) {
    throw new Error('The scheduled sheet "' + schedule.sheetName + '" was deleted: choose a ' +
        'sheet again in Pronto ▸ Schedule refresh….');
  }
  return sheet;
}

/**
 * Asks the function to fill the sheet itself (POST /fill), with the columns picked
 * in the sidebar.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ScheduleState} schedule The schedule.
 * @return {?LogEntry} What the run did, or null when the function cannot open the
 *     sheet (not shared with its service account) and the rows are done here instead.
 */
function fillOnServer_(sheet, schedule) {
  let outcome;
  try {
    outcome = fillOutcome_(callFill_({sheet: sheet, types: schedule.types,
      mapping: savedMapping_(sheet)}, false));
  } catch (e) {
    const error = /** @type {*} */ (e);
    if (error.code === 'timeout') {
      return {at: 0, by: '', how: '', level: 'ok', message: 'Handed to the Pronto function, ' +
        'which goes on filling the sheet after Apps Script stopped waiting.', counts: null};
    }
    if (error.code === 'sheet_not_shared' || error.httpStatus === 404 || error.httpStatus >= 500) {
      return null; // The rows are done here instead (refreshHere_).
    }
    throw e;
  }
  const notices = accountNotices_(outcome.notices);
  return {at: 0, by: '', how: '', level: outcome.waitingForTomorrow || notices ? 'warning' : 'ok',
    message: 'Filled by the Pronto function' + (outcome.waitingForTomorrow ? ': the daily credit ' +
      'budget ran out, ' + formatCount_(outcome.waitingForTomorrow) + ' row(s) wait for tomorrow.' :
      '.') + (notices ? ' ' + notices : ''), counts: outcome.counts};
}

/**
 * Enriches the rows still to do (per type) here, chunk by chunk from the saved row to
 * the end and then from the top to where it started, saving the next row after each
 * chunk and starting no chunk after the deadline.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet The sheet.
 * @param {ScheduleState} schedule The schedule.
 * @param {number} deadline No chunk starts after this (ms).
 * @return {LogEntry} What the run did.
 */
function refreshHere_(sheet, schedule, deadline) {
  const table = openTable_(sheet, savedMapping_(sheet));
  const firstRow = table.headerRow + 1;
  const lastRow = sheet.getLastRow();
  const startRow = schedule.nextRow >= firstRow && schedule.nextRow <= lastRow ?
    schedule.nextRow : firstRow;
  const how = {chunkRows: SCHEDULE_CHUNK_ROWS, priority: 'background', timeoutS: SCHEDULE_TIMEOUT_S};
  const goOn = function() {
    return Date.now() < deadline;
  };
  // From the saved row to the end, then from the top to the saved row.
  const stretches = [[startRow, lastRow], [firstRow, startRow - 1]];
  const totals = emptyCounts_();
  /** @type {Object<string, string>} */
  const notices = {};
  /** @type {?ChunkStop} */
  let stop = null;
  let cursor = startRow;
  let complete = true;
  for (let i = 0; i < stretches.length && !stop && complete; i++) {
    const job = chunkJob_(table, schedule.types, stretches[i][0], stretches[i][1], how, totals);
    const last = i === stretches.length - 1 || startRow === firstRow;
    stop = runChunks_(job, goOn, function(done) {
      const ended = done.nextRow > done.lastRow;
      cursor = ended && !last ? firstRow : done.nextRow;
      updateSchedule_(function(saved) {
        saved.nextRow = ended && last ? 0 : cursor;
      });
    });
    Object.assign(notices, job.notices);
    complete = job.nextRow > job.lastRow;
    if (last) {
      break;
    }
  }
  complete = complete && !stop;
  const notice = accountNotices_(notices);
  const level = stop ? (stop.overBudget ? 'warning' : 'error') : notice ? 'warning' : 'ok';
  const said = stop ? (stop.overBudget ? 'The daily credit budget ran out: ' +
    formatCount_(stop.waiting) + ' row(s) wait for tomorrow.' : stop.message) :
    complete ? 'Every row was looked at.' : 'Stopped at row ' + cursor + ' to stay inside the ' +
      'time Apps Script gives a run; the next run continues from there.';
  return {at: 0, by: '', how: '', level: level, counts: totals,
    message: said + (notice ? ' ' + notice : '')};
}

/**
 * After a take-over of the timer (its owner's timer had stopped and another editor's
 * replaced it): the schedule now runs from the new owner's timer, and the log says so.
 */
function syncScheduleOwner_() {
  const timer = readTimer_();
  if (!timer || !timer.owner) {
    return;
  }
  updateSchedule_(function(saved) {
    if (saved.owner !== timer.owner) {
      addLog_({at: Date.now(), by: timer.owner, how: 'resume', level: 'warning',
        message: 'The Pronto timer of ' + saved.owner + ' had stopped running; ' + timer.owner +
          '\'s timer runs the schedule from now on.', counts: null});
      saved.owner = timer.owner;
    }
  });
}

/**
 * What the spreadsheet says when opened about scheduled refreshes that failed or were
 * skipped since someone last opened the Schedule dialog ('' when none).
 * @return {string} The note.
 */
function scheduleAlert_() {
  const seen = Number(PropertiesService.getDocumentProperties().getProperty(LOG_SEEN_PROPERTY)) || 0;
  const failed = readLog_().filter(function(entry) {
    return entry.at > seen && entry.level !== 'ok' && (entry.how === 'schedule' || entry.how === 'skipped');
  });
  if (!failed.length) {
    return '';
  }
  return 'The scheduled refresh ' + (failed[0].level === 'error' ? 'failed' : 'needs a look') +
      ': ' + failed[0].message + (failed.length > 1 ? ' (' + failed.length + ' runs since you ' +
      'last looked.)' : '') + ' See Extensions ▸ Pronto enrichment ▸ Schedule refresh….';
}
