/**
 * TimerTick: what the Pronto timer (Timer.js) does each time it fires: pending formula
 * cells first (cheap and awaited), then a run whose sidebar was closed (Runs.js), then
 * the scheduled refresh when it is due (Schedule.js). The top of the add-in beside the
 * menu: nothing uses it but the trigger.
 */

/**
 * The timer's tick: pending formula cells first (cheap and awaited), then a run
 * whose sidebar was closed, then the scheduled refresh when it is due. With nothing to
 * do and nobody using Pronto here for an hour, the timer removes itself. Every tick's
 * time is counted against its owner's daily trigger time, idle ones too.
 * @param {{triggerUid?: string}} [event] The time-driven event.
 * @return {string} What the tick did, in a word (for tests and the execution log).
 */
function onProntoTimer(event) {
  const started = Date.now();
  try {
    return tick_(started, event && event.triggerUid ? String(event.triggerUid) : '');
  } finally {
    countTriggerTime_(started);
  }
}

/**
 * One tick (see onProntoTimer).
 * @param {number} started When it started (ms).
 * @param {string} uid Its trigger's id.
 * @return {string} What it did.
 */
function tick_(started, uid) {
  let state = readTimer_();
  if (state && uid && state.triggerId !== uid) {
    // Another timer replaced this one (a take-over, or a copy made meanwhile): retire.
    deleteMyTrigger_(uid);
    return 'retired';
  }
  if (!state) {
    state = {owner: currentUserEmail_(), triggerId: uid, everyMinutes: TIMER_MINUTES,
      installedAt: started, seenAt: started, busyUntil: 0, watchUntil: 0};
    writeTimer_(state);
  }
  syncScheduleOwner_();
  const work = timerWork_(started);
  if (!work.any) {
    if (!work.keep && retireIdleTimer_(uid, started)) {
      return 'removed';
    }
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
    releaseTimer_();
  }
  return done.join('; ');
}

/**
 * What a tick has to do, found cheaply: the pending cells, the run and the schedule;
 * `keep` when the timer must stay even with nothing to do now (a schedule waits).
 * @param {number} now The time (ms).
 * @return {{any: boolean, keep: boolean, pending: boolean, run: boolean, schedule: boolean}} The work.
 */
function timerWork_(now) {
  const schedule = readSchedule_();
  const work = {any: false, keep: schedule !== null && !schedule.paused,
    pending: anyPendingCell_(), run: runNeedsTimer_(readRun_(), now),
    schedule: scheduleDue_(schedule, now)};
  work.any = work.pending || work.run || work.schedule;
  return work;
}

/**
 * Takes the timer for one tick, unless a tick still holds it.
 * @param {number} now The time (ms).
 * @return {boolean} Whether this tick holds it.
 */
function holdTimer_(now) {
  return tryDocumentLock_(5000, function() {
    const state = readTimer_();
    if (!state || state.busyUntil > now) {
      return false;
    }
    state.busyUntil = now + TIMER_LEASE_MS;
    state.seenAt = now;
    writeTimer_(state);
    return true;
  }).value === true;
}

/**
 * Frees the timer for the next tick.
 */
function releaseTimer_() {
  withDocumentLock_(10000, function() {
    const state = readTimer_();
    if (state) {
      state.busyUntil = 0;
      writeTimer_(state);
    }
  });
}
