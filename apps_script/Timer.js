/**
 * Timer: the one time-driven trigger of a spreadsheet, "the Pronto timer". It fills
 * pending formula cells (Pending.js), continues sidebar runs whose sidebar was
 * closed (Runs.js) and runs the scheduled refresh when it is due (Schedule.js).
 *
 * Why one trigger for all three, and one per spreadsheet
 * (developers.google.com/apps-script/guides/triggers/installable and
 * workspace/add-ons/concepts/editor-triggers):
 * - a trigger runs as the person who created it, and nobody else can see it, so
 *   the spreadsheet records who owns its timer (Document Properties) for every
 *   editor to see, and an editor's authorized action adds a timer only when the
 *   spreadsheet has none that still runs;
 * - an add-on may have only one trigger of each type per user and document, and
 *   its time-driven triggers run at most once an hour; a bound script's may run
 *   every minute. The timer asks for every minute and, refused (an add-on), for
 *   every hour: pending cells then fill within the hour, not the minute;
 * - custom functions cannot create triggers, so the timer is created from the
 *   menu, the sidebar, the dialogs, and onInstall for an add-on.
 * A tick with nothing to do reads one cache entry and the document's properties,
 * and writes nothing (its "seen" time at most every ten minutes).
 *
 * Trigger time is limited to 90 minutes a day for a consumer account (6 hours with
 * Google Workspace, developers.google.com/apps-script/guides/services/quotas): the
 * timer counts what its ticks use and leaves long work for the next day before
 * the limit, saying so in the run or the schedule's log.
 */

/** The function the timer runs. */
const TIMER_HANDLER = 'onProntoTimer';
/** Document property describing the timer (JSON). */
const TIMER_PROPERTY = 'PRONTO_TIMER';
/** Minutes between ticks for a bound script. */
const TIMER_MINUTES = 1;
/** Minutes between ticks for an add-on (time-driven triggers at most hourly). */
const ADDON_TIMER_MINUTES = 60;
/** A tick records that it ran at most this often (ms). */
const TIMER_SEEN_EVERY_MS = 10 * 60000;
/** Longest work of one tick (ms): inside the 6-minute limit, with a last chunk's minute to spare. */
const TIMER_TICK_BUDGET_MS = 4 * 60000;
/** A tick holds the timer this long at most (ms): a run is stopped at 6 minutes. */
const TIMER_LEASE_MS = 6 * 60000;
/** Trigger time a consumer account gets per day (ms). */
const TRIGGER_DAY_MS = 90 * 60000;
/** Trigger time kept for the ticks' own checks and pending cells (ms). */
const TIMER_RESERVE_MS = 15 * 60000;

/**
 * What the spreadsheet records about its timer.
 * @typedef {Object} TimerState
 * @property {string} owner The email of the person whose trigger it is.
 * @property {string} triggerId The trigger's unique id.
 * @property {number} everyMinutes 1 (bound script) or 60 (add-on).
 * @property {number} installedAt When it was created (ms).
 * @property {number} seenAt When a tick last recorded itself (ms).
 * @property {number} busyUntil Until when a tick holds it (ms; 0 when free).
 * @property {{since: number, ms: number}} usage Trigger time used since `since` (a 24-hour window).
 * @property {string} previousOwner Whose timer this one replaced ('' when none).
 */

/**
 * What the dialogs show about the timer.
 * @typedef {Object} TimerView
 * @property {string} owner Whose it is ('' when there is none).
 * @property {boolean} mine Whether it is the person's own.
 * @property {boolean} live Whether it ran recently enough to be trusted.
 * @property {number} everyMinutes Minutes between ticks.
 * @property {number} usedMinutes Trigger minutes its ticks used in the last day.
 * @property {number} quotaMinutes Trigger minutes a consumer account gets per day.
 */

/**
 * The timer as recorded.
 * @return {?TimerState} The state, or null when there is none.
 */
function readTimer_() {
  return readDocumentState_(TIMER_PROPERTY);
}

/**
 * Records the timer.
 * @param {TimerState} state The state.
 */
function writeTimer_(state) {
  writeDocumentState_(TIMER_PROPERTY, state);
}

/**
 * Whether a recorded timer still runs: it recorded a tick lately.
 * @param {TimerState} state The state.
 * @param {number} now The time (ms).
 * @return {boolean} True when live.
 */
function timerLive_(state, now) {
  return now - state.seenAt < 3 * state.everyMinutes * 60000 + TIMER_SEEN_EVERY_MS;
}

/**
 * Makes sure this spreadsheet has a timer that runs, creating the person's own
 * when it has none (or only a silent one), or when asked to take it over (the
 * schedule's owner runs the timer). Call only where Apps Script may create
 * triggers: menu, sidebar, dialogs, onInstall.
 * @param {{takeOver?: boolean}} [options] takeOver: replace another person's timer.
 * @return {TimerView} The timer now.
 */
function ensureTimer_(options) {
  const me = currentUserEmail_();
  const lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  try {
    const now = Date.now();
    const state = readTimer_();
    if (state && state.owner === me && myTrigger_(state.triggerId)) {
      return timerView_(state);
    }
    if (state && state.owner !== me && timerLive_(state, now) && !(options && options.takeOver)) {
      return timerView_(state);
    }
    if (state && state.owner === me && state.triggerId) {
      deleteMyTrigger_(state.triggerId);
    }
    const created = createTimerTrigger_();
    /** @type {TimerState} */
    const next = {
      owner: me, triggerId: created.id, everyMinutes: created.everyMinutes, installedAt: now,
      seenAt: now, busyUntil: 0,
      usage: state && state.owner === me && state.usage ? state.usage : {since: now, ms: 0},
      previousOwner: state && state.owner !== me ? state.owner : '',
    };
    writeTimer_(next);
    if (next.previousOwner) {
      adoptSchedule_(me);
    }
    return timerView_(next);
  } finally {
    lock.releaseLock();
  }
}

/**
 * ensureTimer_ where a missing timer must not stop what the person asked for
 * (saving settings, opening the sidebar).
 * @return {?TimerView} The timer, or null when it could not be created.
 */
function ensureTimerQuietly_() {
  try {
    return ensureTimer_();
  } catch {
    return null;
  }
}

/**
 * Creates the timer's trigger: every minute, or every hour where Apps Script
 * allows no more (an add-on).
 * @return {{id: string, everyMinutes: number}} The trigger's id and period.
 */
function createTimerTrigger_() {
  const timeZone = SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetTimeZone();
  let trigger;
  let everyMinutes = TIMER_MINUTES;
  try {
    trigger = ScriptApp.newTrigger(TIMER_HANDLER).timeBased().everyMinutes(TIMER_MINUTES)
        .inTimezone(timeZone).create();
  } catch {
    everyMinutes = ADDON_TIMER_MINUTES;
    trigger = ScriptApp.newTrigger(TIMER_HANDLER).timeBased().everyHours(ADDON_TIMER_MINUTES / 60)
        .inTimezone(timeZone).create();
  }
  return {id: trigger.getUniqueId(), everyMinutes: everyMinutes};
}

/**
 * The person's own trigger with this id, if it still exists.
 * @param {string} id The trigger id.
 * @return {?GoogleAppsScript.Script.Trigger} The trigger.
 */
function myTrigger_(id) {
  const found = ScriptApp.getProjectTriggers().filter(function(trigger) {
    return trigger.getUniqueId() === id;
  });
  return found.length ? found[0] : null;
}

/**
 * Deletes one of the person's own triggers (nothing when it is gone already).
 * @param {string} id The trigger id.
 */
function deleteMyTrigger_(id) {
  const trigger = myTrigger_(id);
  if (trigger) {
    ScriptApp.deleteTrigger(trigger);
  }
}

/**
 * The dialogs' view of a timer.
 * @param {?TimerState} state The state.
 * @return {TimerView} The view.
 */
function timerView_(state) {
  const now = Date.now();
  return {
    owner: state ? state.owner : '',
    mine: state !== null && state.owner === currentUserEmail_(),
    live: state !== null && timerLive_(state, now),
    everyMinutes: state ? state.everyMinutes : TIMER_MINUTES,
    usedMinutes: state ? Math.round(timerUsage_(state, now) / 60000) : 0,
    quotaMinutes: TRIGGER_DAY_MS / 60000,
  };
}

/**
 * Trigger time the timer's ticks used in the current 24-hour window (ms).
 * @param {TimerState} state The state.
 * @param {number} now The time (ms).
 * @return {number} The time used.
 */
function timerUsage_(state, now) {
  const usage = state.usage;
  return usage && now < usage.since + 86400000 ? usage.ms : 0;
}

/**
 * Whether the timer's owner has trigger time left today for work lasting up to `ms`.
 * @param {number} ms The longest the work may last.
 * @return {boolean} True when it fits.
 */
function triggerTimeLeft_(ms) {
  const state = readTimer_();
  return !state || timerUsage_(state, Date.now()) + ms <= TRIGGER_DAY_MS - TIMER_RESERVE_MS;
}

/**
 * The timer's tick: pending formula cells first (cheap and awaited), then a run
 * whose sidebar was closed, then the scheduled refresh when it is due.
 * @param {{triggerUid?: string}} [event] The time-driven event.
 * @return {string} What the tick did, in a word (for tests and the execution log).
 */
function onProntoTimer(event) {
  const started = Date.now();
  const uid = event && event.triggerUid ? String(event.triggerUid) : '';
  let state = readTimer_();
  if (state && uid && state.triggerId !== uid) {
    // Another timer replaced this one (a take-over, or a copy made meanwhile): retire.
    deleteMyTrigger_(uid);
    return 'retired';
  }
  if (!state) {
    state = {owner: currentUserEmail_(), triggerId: uid, everyMinutes: TIMER_MINUTES,
      installedAt: started, seenAt: started, busyUntil: 0, usage: {since: started, ms: 0},
      previousOwner: ''};
    writeTimer_(state);
  }
  const work = timerWork_(started);
  if (!work.any) {
    if (started - state.seenAt >= TIMER_SEEN_EVERY_MS) {
      state.seenAt = started;
      writeTimer_(state);
    }
    return 'idle';
  }
  if (!holdTimer_(started)) {
    noteScheduleSkipped_('the previous tick of the Pronto timer was still working');
    return 'busy';
  }
  const deadline = started + TIMER_TICK_BUDGET_MS;
  const done = [];
  try {
    if (work.pending) {
      const refresh = refreshPendingCells_({deadline: deadline});
      done.push('pending ' + refresh.refreshed + '/' + refresh.cells);
    }
    if (work.run) {
      done.push(continueRunInBackground_(deadline));
    }
    if (work.schedule) {
      done.push(runScheduleIfDue_(deadline));
    }
  } finally {
    releaseTimer_(started);
  }
  return done.join('; ');
}

/**
 * What a tick has to do, found cheaply: the pending list, the run and the schedule.
 * @param {number} now The time (ms).
 * @return {{any: boolean, pending: boolean, run: boolean, schedule: boolean}} The work.
 */
function timerWork_(now) {
  const work = {any: false, pending: readPendingIndex_().length > 0,
    run: runNeedsTimer_(readRun_(), now), schedule: scheduleDue_(readSchedule_(), now)};
  work.any = work.pending || work.run || work.schedule;
  return work;
}

/**
 * Takes the timer for one tick, unless a tick still holds it.
 * @param {number} now The time (ms).
 * @return {boolean} Whether this tick holds it.
 */
function holdTimer_(now) {
  const lock = LockService.getDocumentLock();
  if (!lock.tryLock(5000)) {
    return false;
  }
  try {
    const state = readTimer_();
    if (!state || state.busyUntil > now) {
      return false;
    }
    state.busyUntil = now + TIMER_LEASE_MS;
    state.seenAt = now;
    writeTimer_(state);
    return true;
  } finally {
    lock.releaseLock();
  }
}

/**
 * Frees the timer and counts the tick's trigger time.
 * @param {number} started When the tick started (ms).
 */
function releaseTimer_(started) {
  const lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  try {
    const state = readTimer_();
    if (!state) {
      return;
    }
    const now = Date.now();
    if (!state.usage || now >= state.usage.since + 86400000) {
      state.usage = {since: started, ms: 0};
    }
    state.usage.ms += now - started;
    state.busyUntil = 0;
    writeTimer_(state);
  } finally {
    lock.releaseLock();
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {ensureTimer_, onProntoTimer, readTimer_,
    timerView_, TIMER_HANDLER};
}
