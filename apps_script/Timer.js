/**
 * Timer: the one time-driven trigger of a spreadsheet, "the Pronto timer": creating it,
 * knowing who owns it, removing it when idle, and counting its owner's trigger time.
 * What a tick does is TimerTick.js: it fills pending formula cells (Pending.js),
 * continues sidebar runs whose sidebar was closed (Runs.js) and runs the scheduled
 * refresh when it is due (Schedule.js).
 *
 * Google's rules (developers.google.com/apps-script/guides/triggers/installable,
 * guides/services/quotas, workspace/add-ons/concepts/editor-triggers):
 * - a trigger runs as the person who created it, and nobody else can see it, so the
 *   spreadsheet records who owns its timer (Document Properties) for every editor to see;
 * - a person may hold 20 triggers per script: for an add-on that is 20 across every
 *   spreadsheet using it, so a timer exists only while it has work (pending cells, a run,
 *   a schedule) or for an hour after someone used Pronto here (custom functions cannot
 *   create a timer, so it waits for formulas typed just after), and a tick with nothing
 *   to do after that removes it; when Google refuses a new one, the person is told why
 *   and how the cells fill meanwhile (the sidebar, reopening the spreadsheet);
 * - an add-on's time-driven triggers run at most hourly; a bound script's every minute:
 *   the timer asks for every minute and, refused (an add-on), for every hour;
 * - trigger time is limited per person: 90 minutes a day (consumer), 6 hours (Google
 *   Workspace). The owner's use is counted in their User Properties, every tick included
 *   (an idle one too), and long work waits for the next day before the limit.
 */

/** The function the timer runs. */
const TIMER_HANDLER = 'onProntoTimer';
/** Document property describing the timer (JSON). */
const TIMER_PROPERTY = 'PRONTO_TIMER';
/** User property counting the person's trigger time over 24 hours (JSON). */
const TRIGGER_TIME_PROPERTY = 'PRONTO_TRIGGER_TIME';
/** Minutes between ticks for a bound script. */
const TIMER_MINUTES = 1;
/** Minutes between ticks for an add-on (time-driven triggers at most hourly). */
const ADDON_TIMER_MINUTES = 60;
/** A timer with nothing to do stays this long after someone used Pronto here (ms). */
const TIMER_WATCH_MS = 60 * 60000;
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
 * @property {number} watchUntil Until when it stays with nothing to do (ms).
 */

/**
 * What the dialogs show about the timer.
 * @typedef {Object} TimerView
 * @property {string} owner Whose it is ('' when there is none).
 * @property {boolean} mine Whether it is the person's own.
 * @property {boolean} live Whether it ran recently enough to be trusted.
 * @property {number} everyMinutes Minutes between ticks.
 * @property {number} usedMinutes Trigger minutes the person used in the last day (their own count).
 * @property {number} quotaMinutes Trigger minutes a consumer account gets per day.
 * @property {string} problem Why there is no timer when one was asked for ('' otherwise).
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
 * Makes sure this spreadsheet has a timer that runs, creating the person's own when it
 * has none (or only a silent one), or when asked to take it over (the schedule's owner
 * runs the timer), and keeps it an hour at least. Call only where Apps Script may create
 * triggers: menu, sidebar, dialogs, onInstall.
 * @param {{takeOver?: boolean}} [options] takeOver: replace another person's timer.
 * @return {TimerView} The timer now; `problem` says why there is none when Google refused it.
 */
function ensureTimer_(options) {
  const me = currentUserEmail_();
  return withDocumentLock_(10000, function() {
    const now = Date.now();
    const state = readTimer_();
    if (state && ((state.owner === me && myTrigger_(state.triggerId)) ||
        (state.owner !== me && timerLive_(state, now) && !(options && options.takeOver)))) {
      state.watchUntil = Math.max(state.watchUntil || 0, now + TIMER_WATCH_MS);
      writeTimer_(state);
      return timerView_(state);
    }
    if (state && state.owner === me && state.triggerId) {
      deleteMyTrigger_(state.triggerId);
    }
    /** @type {{id: string, everyMinutes: number}} */
    let created;
    try {
      created = createTimerTrigger_();
    } catch (e) {
      const view = timerView_(null);
      view.problem = timerProblem_(/** @type {Error} */ (e).message);
      return view;
    }
    /** @type {TimerState} */
    const next = {owner: me, triggerId: created.id, everyMinutes: created.everyMinutes,
      installedAt: now, seenAt: now, busyUntil: 0, watchUntil: now + TIMER_WATCH_MS};
    writeTimer_(next);
    return timerView_(next);
  });
}

/**
 * The sentence for a timer Google refused to create.
 * @param {string} error Google's message.
 * @return {string} What happened and what still works.
 */
function timerProblem_(error) {
  const meanwhile = ' Meanwhile pending cells fill while the Pronto sidebar is open and each ' +
      'time the spreadsheet is opened, and a sidebar run goes on while the sidebar is open.';
  if (/too many triggers/i.test(error)) {
    return 'Google allows a person 20 Pronto timers, and yours are busy in other ' +
        'spreadsheets: a timer frees up once their pending cells are filled.' + meanwhile;
  }
  return 'Google refused to create the Pronto timer (' + error.replace(/^Exception: /, '') +
      ').' + meanwhile;
}

/**
 * ensureTimer_ where a missing timer must not stop what the person asked for (saving
 * settings, opening the sidebar): the view's `problem` says what to show instead.
 * @return {TimerView} The timer, or the reason there is none.
 */
function ensureTimerQuietly_() {
  try {
    return ensureTimer_();
  } catch (e) {
    const view = timerView_(readTimer_());
    view.problem = /** @type {Error} */ (e).message;
    return view;
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
  } catch (e) {
    if (/too many triggers/i.test(/** @type {Error} */ (e).message)) {
      throw e; // No hourly one either: the caller says so.
    }
    everyMinutes = ADDON_TIMER_MINUTES; // An add-on: at most hourly.
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
 * Removes the timer of a tick with nothing to do, once no one used Pronto here for an
 * hour: its trigger is deleted and the spreadsheet forgets it.
 * @param {string} uid The tick's trigger id.
 * @param {number} now The time (ms).
 * @return {boolean} Whether it was removed.
 */
function retireIdleTimer_(uid, now) {
  return withDocumentLock_(10000, function() {
    const state = readTimer_();
    if (state && state.triggerId === uid && now < (state.watchUntil || 0)) {
      return false;
    }
    deleteMyTrigger_(uid);
    if (state && state.triggerId === uid) {
      PropertiesService.getDocumentProperties().deleteProperty(TIMER_PROPERTY);
    }
    return true;
  });
}

/**
 * The dialogs' view of a timer.
 * @param {?TimerState} state The state.
 * @return {TimerView} The view.
 */
function timerView_(state) {
  const now = Date.now();
  const mine = state !== null && state.owner === currentUserEmail_();
  return {
    owner: state ? state.owner : '',
    mine: mine,
    live: state !== null && timerLive_(state, now),
    everyMinutes: state ? state.everyMinutes : TIMER_MINUTES,
    usedMinutes: mine ? Math.round(triggerTimeUsed_(now) / 60000) : 0,
    quotaMinutes: TRIGGER_DAY_MS / 60000,
    problem: '',
  };
}

/**
 * The person's trigger time over the current 24-hour window, from their User Properties
 * (a trigger runs as its owner, so in a tick this is the owner's own count).
 * @return {{since: number, ms: number}} The window.
 */
function readTriggerTime_() {
  try {
    const saved = JSON.parse(PropertiesService.getUserProperties().getProperty(TRIGGER_TIME_PROPERTY) ||
        'null');
    return saved && typeof saved.ms === 'number' ? saved : {since: 0, ms: 0};
  } catch {
    return {since: 0, ms: 0}; // A damaged count starts afresh.
  }
}

/**
 * Trigger time the person used in the current 24-hour window (ms).
 * @param {number} now The time (ms).
 * @return {number} The time used.
 */
function triggerTimeUsed_(now) {
  const usage = readTriggerTime_();
  return now < usage.since + 86400000 ? usage.ms : 0;
}

/**
 * Counts a tick's trigger time in its owner's User Properties (every tick, idle ones too).
 * @param {number} started When the tick started (ms).
 */
function countTriggerTime_(started) {
  const now = Date.now();
  const usage = readTriggerTime_();
  const window = now < usage.since + 86400000 ? usage : {since: started, ms: 0};
  window.ms += Math.max(now - started, 1);
  PropertiesService.getUserProperties().setProperty(TRIGGER_TIME_PROPERTY, JSON.stringify(window));
}

/**
 * Whether the person running (the timer's owner, in a tick) has trigger time left today
 * for work lasting up to `ms`.
 * @param {number} ms The longest the work may last.
 * @return {boolean} True when it fits.
 */
function triggerTimeLeft_(ms) {
  return triggerTimeUsed_(Date.now()) + ms <= TRIGGER_DAY_MS - TIMER_RESERVE_MS;
}
