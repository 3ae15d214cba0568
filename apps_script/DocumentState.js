/**
 * The add-in's own state kept in this spreadsheet's Document Properties as JSON: the run
 * (Runs.js), the Pronto timer (Timer.js), the schedule (Schedule.js). Every editor's
 * executions see the same values, which is why they live here and not in User Properties.
 */

/**
 * A saved value.
 * @param {string} key The property.
 * @return {*} The value, or null when there is none or it cannot be read (a damaged value
 *     counts as none: the caller starts afresh rather than failing every execution).
 */
function readDocumentState_(key) {
  const text = PropertiesService.getDocumentProperties().getProperty(key);
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
 * Saves a value.
 * @param {string} key The property.
 * @param {*} value Anything JSON can hold.
 */
function writeDocumentState_(key, value) {
  PropertiesService.getDocumentProperties().setProperty(key, JSON.stringify(value));
}

/**
 * Runs `work` holding this spreadsheet's document lock, waiting for it up to `waitMs`.
 * getDocumentLock() may return null (developers.google.com/apps-script/reference/lock/
 * lock-service: "if … the document cannot be found"): the script lock then guards the
 * same state, since every execution of this script takes it the same way.
 * @param {number} waitMs How long to wait for the lock.
 * @param {function(): T} work What to do while holding it.
 * @return {T} What `work` returned; throws a sentence when the lock stayed taken.
 * @template T
 */
function withDocumentLock_(waitMs, work) {
  const lock = documentLock_();
  if (!lock.tryLock(waitMs)) {
    throw new Error('Another Pronto task is writing to this spreadsheet right now: try again ' +
        'in a minute.');
  }
  try {
    return work();
  } finally {
    lock.releaseLock();
  }
}

/**
 * Runs `work` holding the document lock when it can be had within `waitMs`, else not at all.
 * @param {number} waitMs How long to wait for the lock.
 * @param {function(): T} work What to do while holding it.
 * @return {{ran: boolean, value: (T|undefined)}} Whether it ran, and what it returned.
 * @template T
 */
function tryDocumentLock_(waitMs, work) {
  const lock = documentLock_();
  if (!lock.tryLock(waitMs)) {
    return {ran: false, value: undefined};
  }
  try {
    return {ran: true, value: work()};
  } finally {
    lock.releaseLock();
  }
}

/**
 * This spreadsheet's lock: the document lock, or the script's when there is none.
 * @return {GoogleAppsScript.Lock.Lock} The lock.
 */
function documentLock_() {
  return LockService.getDocumentLock() || LockService.getScriptLock();
}
