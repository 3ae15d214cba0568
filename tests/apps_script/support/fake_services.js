'use strict';
/**
 * Fakes of the Google services other than SpreadsheetApp, each enforcing the
 * documented limits the code must respect: CacheService (keys ≤ 250 chars, values
 * ≤ 100 KB, expiry ≤ 21,600 s, about 1,000 items), PropertiesService (document then
 * script stores), LockService, ScriptApp (installable triggers, identity token not
 * available to custom functions), Utilities (digests via node:crypto), Session,
 * HtmlService and UrlFetchApp (real synchronous HTTP with Apps Script's semantics).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const {LIMITS, MESSAGES} = require('./limits');
const {Versions} = require('./versions');

const MAX_ITEMS = LIMITS.cache.maxItems;
const URL_FETCH_TIMEOUT_MS = 60000;

/**
 * CacheService's Cache (developers.google.com/apps-script/reference/cache/cache): keys
 * ≤ 250 characters, values ≤ 100 KB, expiry 1–21,600 s (600 by default) and "only a
 * suggestion" (tests evict early with `evict`), and past 1,000 items "the cache stores the
 * 900 items farthest from expiration" (ties: the most recently written go first, the
 * stricter choice, since Google does not say). An execution reads what the cache held at its
 * own clock time (support/versions.js); `items` is what it holds after every execution.
 */
class FakeCache {
  constructor(now) {
    this.now = now;
    this.items = new Map();
    this.versions = new Versions(() => this.now());
    this.counters = {gets: 0, puts: 0, evicted: 0};
    this.writes = 0;
  }

  live(key) {
    const item = this.versions.hasFuture(key) ? this.versions.at(key).value : this.items.get(key);
    if (!item) return null;
    if (item.expiresAt <= this.now()) {
      if (this.items.get(key) === item) this.items.delete(key);
      return null;
    }
    return item;
  }

  /** Writes `item` (null: removes) now; the latest view changes only if no later write exists. */
  write(key, item) {
    if (!this.versions.record(key, item, this.items.get(key) || null)) return;
    this.items.delete(key);
    if (item) this.items.set(key, item);
  }

  checkKey(key) {
    if (typeof key !== 'string') {
      throw new Error(`Exception: The parameters (${typeof key}) don't match the method signature for CacheService.Cache.`);
    }
    if (key.length === 0 || key.length > LIMITS.cache.maxKeyChars) {
      throw new Error(`${MESSAGES.cacheKeyTooLarge} (${key.length} characters; at most ${LIMITS.cache.maxKeyChars})`);
    }
  }

  get(key) {
    this.checkKey(key);
    this.counters.gets++;
    const item = this.live(key);
    return item ? item.value : null;
  }

  getAll(keys) {
    if (!Array.isArray(keys)) throw new Error('Exception: The parameters don\'t match the method signature for CacheService.Cache.getAll.');
    const out = {};
    keys.forEach((key) => {
      this.checkKey(key);
      const item = this.live(key);
      if (item) out[key] = item.value;
    });
    this.counters.gets++;
    return out;
  }

  put(key, value, expirationInSeconds = LIMITS.cache.defaultExpirySeconds) {
    this.checkKey(key);
    this.putAll({[key]: value}, expirationInSeconds);
  }

  putAll(values, expirationInSeconds = LIMITS.cache.defaultExpirySeconds) {
    const {minExpirySeconds, maxExpirySeconds, maxValueBytes} = LIMITS.cache;
    if (typeof expirationInSeconds !== 'number' || expirationInSeconds < minExpirySeconds ||
        expirationInSeconds > maxExpirySeconds) {
      throw new Error(`Exception: Invalid argument: expirationInSeconds (${expirationInSeconds}; ` +
          `from ${minExpirySeconds} to ${maxExpirySeconds})`);
    }
    // Nothing is written when one pair is refused: check every pair first.
    Object.keys(values).forEach((key) => {
      this.checkKey(key);
      if (typeof values[key] !== 'string') {
        throw new Error(`Exception: The parameters (String,${typeof values[key]}) don't match the method signature for CacheService.Cache.put.`);
      }
      if (Buffer.byteLength(values[key], 'utf8') > maxValueBytes) throw new Error(MESSAGES.cacheValueTooLarge);
    });
    const expiresAt = this.now() + expirationInSeconds * 1000;
    Object.keys(values).forEach((key) => this.write(key, {value: values[key], expiresAt, order: this.writes++}));
    this.counters.puts++;
    this.trim();
  }

  /** Past the cap: expired items go, then all but the 900 farthest from expiration. */
  trim() {
    if (this.items.size <= LIMITS.cache.maxItems) return;
    for (const key of [...this.items.keys()]) this.live(key);
    if (this.items.size <= LIMITS.cache.maxItems) return;
    const kept = [...this.items.entries()]
        .sort((a, b) => b[1].expiresAt - a[1].expiresAt || a[1].order - b[1].order)
        .slice(0, LIMITS.cache.keptWhenFull);
    this.counters.evicted += this.items.size - kept.length;
    this.items = new Map(kept.sort((a, b) => a[1].order - b[1].order));
  }

  remove(key) { this.checkKey(key); this.write(key, null); }
  removeAll(keys) { keys.forEach((key) => this.remove(key)); }

  // Test hooks (not Apps Script API).
  /**
   * Drops items before their expiry, as Google may: "The specified expiration time is only a
   * suggestion; cached data may be removed before this time if a lot of data is cached."
   * @param {function(string, string): boolean} [which] Keys to drop (all when omitted).
   * @return {number} How many were dropped.
   */
  evict(which = () => true) {
    let dropped = 0;
    for (const [key, item] of [...this.items]) {
      if (which(key, item.value)) {
        this.items.delete(key);
        dropped++;
      }
    }
    this.counters.evicted += dropped;
    return dropped;
  }
}

/**
 * A property store (developers.google.com/apps-script/reference/properties/properties):
 * values are strings ≤ 9 KB, a store holds ≤ 500 KB of keys and values (guides/services/quotas).
 * A refused write changes nothing. The daily read/write quota is counted per user by the
 * harness (support/strict_runtime.js), which sees who calls. With a clock (`now`), an
 * execution reads what the store held at its own clock time (support/versions.js); `values`
 * is what it holds after every execution.
 */
class FakeProperties {
  constructor(initial = {}, now = null) {
    this.values = new Map(Object.entries(initial).map(([key, value]) => [key, String(value)]));
    this.now = now;
    this.versions = new Versions(() => (this.now ? this.now() : 0));
  }
  static bytes(entries) {
    let total = 0;
    for (const [key, value] of entries) total += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
    return total;
  }
  /** Bytes of keys and values held. */
  size() { return FakeProperties.bytes(this.values); }
  /** Applies `changes` (key → string, or null to delete) all or nothing. */
  commit(changes, clearFirst = false) {
    const next = new Map(clearFirst ? [] : this.values);
    for (const [key, value] of changes) {
      if (value === null) {
        next.delete(key);
        continue;
      }
      if (Buffer.byteLength(value, 'utf8') > LIMITS.properties.maxValueBytes) throw new Error(MESSAGES.propertyStorage);
      next.set(key, value);
    }
    if (FakeProperties.bytes(next) > LIMITS.properties.maxStoreBytes) throw new Error(MESSAGES.propertyStorage);
    const written = new Map(changes);
    if (clearFirst) for (const key of this.values.keys()) if (!written.has(key)) written.set(key, null);
    for (const [key, value] of written) {
      if (!this.versions.record(key, value, this.values.has(key) ? this.values.get(key) : null)) continue;
      if (value === null) this.values.delete(key);
      else this.values.set(key, value);
    }
    return this;
  }
  /** What the store holds at the calling execution's clock time. */
  visible() {
    const future = this.versions.futureKeys();
    if (!future.length) return this.values;
    const out = new Map(this.values);
    future.forEach((key) => {
      const {value} = this.versions.at(key);
      if (value === null) out.delete(key);
      else out.set(key, value);
    });
    return out;
  }
  getProperty(key) {
    const value = this.versions.hasFuture(key) ? this.versions.at(key).value : this.values.get(key);
    return value === undefined ? null : value;
  }
  setProperty(key, value) { return this.commit([[String(key), String(value)]]); }
  deleteProperty(key) { return this.commit([[String(key), null]]); }
  getProperties() { return Object.fromEntries(this.visible()); }
  setProperties(properties, deleteAllOthers) {
    return this.commit(Object.entries(properties).map(([key, value]) => [key, String(value)]), Boolean(deleteAllOthers));
  }
  getKeys() { return [...this.visible().keys()]; }
  deleteAllProperties() { return this.commit([], true); }
}

/**
 * A lock of LockService (developers.google.com/apps-script/reference/lock/lock). Holds are
 * intervals of the harness's clock, so executions Sheets runs at once (run one after the
 * other by the harness, each from its own start time) contend for real: tryLock waits, on
 * the clock, until every hold another execution has at or after now has ended, or gives up
 * after its timeout. A lock is re-entrant for its holder and released when the execution
 * ends (developers.google.com/apps-script/reference/lock/lock: "The lock is automatically released
 * when the script terminates").
 */
class FakeLock {
  constructor(registry, name, execution = registry.execution) {
    this.registry = registry;
    this.name = name;
    this.execution = execution;
  }
  hasLock() { return this.registry.holds(this.name).some((hold) => hold.holder === this.execution() && hold.to === null); }
  tryLock(timeoutInMillis = 0) {
    if (this.hasLock()) return true;
    const clock = this.registry.clock;
    const now = clock.now();
    const freeAt = this.registry.freeAt(this.name, this.execution(), now);
    if (freeAt > now) {
      if (freeAt - now > timeoutInMillis) {
        clock.advance(timeoutInMillis);
        return false;
      }
      clock.advance(freeAt - now);
    }
    this.registry.holds(this.name).push({holder: this.execution(), from: clock.now(), to: null});
    return true;
  }
  waitLock(timeoutInMillis) {
    if (!this.tryLock(timeoutInMillis)) throw new Error(MESSAGES.lockTimeout);
  }
  releaseLock() {
    const now = this.registry.clock.now();
    this.registry.holds(this.name).forEach((hold) => {
      if (hold.holder === this.execution() && hold.to === null) hold.to = now;
    });
  }
}

class LockRegistry {
  constructor(execution, clock = {now: () => Date.now(), advance() {}}) {
    this.execution = execution;
    this.clock = clock;
    this.byName = new Map();
    this.outsider = {id: -1, kind: 'another process'};
  }
  holds(name) {
    if (!this.byName.has(name)) this.byName.set(name, []);
    return this.byName.get(name);
  }
  /** When every hold of `name` by someone other than `me` that reaches past `now` ends. */
  freeAt(name, me, now) {
    let free = now;
    for (const hold of this.holds(name)) {
      if (hold.holder === me) continue;
      const end = hold.to === null ? Infinity : hold.to;
      if (end > now) free = Math.max(free, end);
    }
    return free;
  }
  /** Test hook: another process holds `name` from now until `untilMs` (Infinity: until `release`). */
  holdElsewhere(name, untilMs = Infinity) {
    this.holds(name).push({holder: this.outsider, from: this.clock.now(), to: untilMs === Infinity ? null : untilMs});
  }
  /** Releases what an execution still holds, as Apps Script does when a script ends. */
  releaseAll(executionId) {
    const now = this.clock.now();
    for (const holds of this.byName.values()) {
      holds.forEach((hold) => {
        if (hold.holder.id === executionId && hold.holder !== this.outsider && hold.to === null) hold.to = now;
      });
      // Holds that ended long ago cannot matter to anyone (executions last ≤ 6 minutes).
      const horizon = now - 2 * LIMITS.runtime.scriptMs;
      for (let i = holds.length - 1; i >= 0; i--) if (holds[i].to !== null && holds[i].to < horizon) holds.splice(i, 1);
    }
  }
}

const EventType = Object.freeze({CLOCK: 'CLOCK', ON_OPEN: 'ON_OPEN', ON_EDIT: 'ON_EDIT', ON_FORM_SUBMIT: 'ON_FORM_SUBMIT', ON_CHANGE: 'ON_CHANGE'});
const VALID_HOURS = [1, 2, 4, 6, 8, 12];
const VALID_MINUTES = [1, 5, 10, 15, 30];
const MINUTE = 60000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// developers.google.com/apps-script/guides/services/quotas: "Triggers: 20 / user / script".
const MAX_TRIGGERS_PER_USER = LIMITS.triggers.perUserPerScript;
// Same page, "Triggers total runtime": 90 min / day (consumer), 6 hr / day (Google Workspace).
const TRIGGER_RUNTIME_MS = LIMITS.triggers.runtimeMsPerDay;
const QUOTA_EXCEEDED = 'Exception: Service using too much computer time for one day. Try again later.';

/** The local hour and minute of an instant in a time zone (IANA name). */
function localTime(ms, timeZone) {
  const parts = new Intl.DateTimeFormat('en-GB', {timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})
      .formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((part) => part.type === type).value);
  return {hour: get('hour'), minute: get('minute')};
}

/**
 * Installable triggers of every user of one script, on the harness's clock.
 *
 * What it models, from developers.google.com/apps-script/guides/triggers/installable:
 * triggers run as the account that created them, and "a given account cannot see
 * triggers installed from a second account"; time-driven triggers run "as frequently as
 * every minute", an add-on's "once per hour at most", and a daily trigger at a time
 * "between 9 a.m. and 10 a.m." for atHour(9) (here: on the hour, or at nearMinute),
 * counted in the time zone given by inTimezone (the script's otherwise). From
 * workspace/add-ons/concepts/editor-triggers: an add-on has "one trigger of each type,
 * per user, per document". From guides/services/quotas: 20 triggers per user per script
 * and a daily total trigger runtime per user.
 */
class TriggerRegistry {
  constructor({clock, addon = false, account = 'consumer', scriptTimeZone = 'Etc/UTC'}) {
    this.clock = clock;
    this.addon = addon;
    this.runtimeLimitMs = TRIGGER_RUNTIME_MS[account];
    this.scriptTimeZone = scriptTimeZone;
    this.triggers = [];
    this.nextId = 1;
    this.usage = new Map();
  }

  ofUser(user) { return this.triggers.filter((trigger) => trigger.owner === user); }

  add(owner, document, spec) {
    if (this.ofUser(owner).length >= MAX_TRIGGERS_PER_USER) {
      throw new Error('Exception: This script has too many triggers. Triggers must be deleted from the script before more can be added.');
    }
    if (this.addon && this.triggers.some((t) => t.owner === owner && t.document === document && t.eventType === EventType.CLOCK)) {
      throw new Error('Exception: An add-on can have only one trigger of each type, per user, per document.');
    }
    // editor-triggers, Restrictions: "Time-driven triggers cannot run more frequently than once
    // per hour." Google documents the rule, not what create() does against it: the fake
    // assumes it throws (rather than silently running hourly), so code must ask for hours.
    if (this.addon && spec.everyMinutes) {
      throw new Error('Exception: Add-ons cannot create time-based triggers that run more often than once per hour.');
    }
    const trigger = {
      id: String(this.nextId++), owner, document, spec: {...spec}, eventType: EventType.CLOCK,
      createdAt: this.clock.now(), runs: 0,
    };
    trigger.nextAt = this.after(trigger, trigger.createdAt);
    this.triggers.push(trigger);
    return trigger;
  }

  remove(id) { this.triggers = this.triggers.filter((trigger) => trigger.id !== id); }

  /** When a trigger runs next, strictly after `from`. */
  after(trigger, from) {
    const {everyMinutes, everyHours, everyDays, atHour, nearMinute, timeZone} = trigger.spec;
    if (everyMinutes) return from + everyMinutes * MINUTE;
    if (everyHours) return from + everyHours * HOUR;
    if (atHour === null) return from + everyDays * DAY;
    const zone = timeZone || this.scriptTimeZone;
    const minute = nearMinute === null ? 0 : nearMinute;
    // The next quarter hour whose local time is atHour:minute (zones offset by 30 or 45 minutes included).
    let at = Math.floor(from / (15 * MINUTE)) * 15 * MINUTE;
    for (let step = 0; step < 4 * 24 * 2; step++) {
      at += 15 * MINUTE;
      const local = localTime(at, zone);
      if (local.hour === atHour && local.minute === minute - (minute % 15)) {
        return at + (minute % 15) * MINUTE + (everyDays - 1) * DAY;
      }
    }
    throw new Error(`fake: no ${atHour}:00 found in ${zone}`);
  }

  /** The earliest trigger due at or before `until`, or null. */
  nextDue(until) {
    const due = this.triggers.filter((trigger) => trigger.nextAt <= until)
        .sort((a, b) => a.nextAt - b.nextAt || Number(a.id) - Number(b.id));
    return due[0] || null;
  }

  /** Whether `user` may start a trigger run now; the window resets 24 hours after its first run. */
  allows(user, now) {
    const usage = this.usage.get(user);
    if (!usage || now >= usage.since + DAY) return true;
    return usage.ms < (this.accountOf ? TRIGGER_RUNTIME_MS[this.accountOf(user)] : this.runtimeLimitMs);
  }

  charge(user, started, ms) {
    let usage = this.usage.get(user);
    if (!usage || started >= usage.since + DAY) {
      usage = {since: started, ms: 0};
      this.usage.set(user, usage);
    }
    usage.ms += ms;
  }

  usedMs(user) {
    const usage = this.usage.get(user);
    return usage && this.clock.now() < usage.since + DAY ? usage.ms : 0;
  }
}

class FakeScriptApp {
  constructor(execution, registry, {identityToken = null, documentId = 'document'} = {}) {
    this.execution = execution;
    this.registry = registry;
    this.identityToken = identityToken;
    this.documentId = documentId;
    this.EventType = EventType;
    this.TriggerSource = Object.freeze({SPREADSHEETS: 'SPREADSHEETS', CLOCK: 'CLOCK', FORMS: 'FORMS', DOCUMENTS: 'DOCUMENTS', CALENDAR: 'CALENDAR'});
    this.AuthMode = Object.freeze({NONE: 'NONE', CUSTOM_FUNCTION: 'CUSTOM_FUNCTION', LIMITED: 'LIMITED', FULL: 'FULL'});
    this.WeekDay = Object.freeze({MONDAY: 'MONDAY'});
  }

  /** Custom functions and simple triggers run without authorization: no trigger management, no identity. */
  checkAuthorized(what) {
    const {kind} = this.execution();
    if (kind === 'custom' || kind === 'simple') {
      throw new Error(`Exception: You do not have permission to call ScriptApp.${what}. Required permissions: https://www.googleapis.com/auth/script.scriptapp`);
    }
  }

  get triggers() {
    return this.registry.triggers.map((trigger) => this.wrap(trigger));
  }

  newTrigger(functionName) {
    this.checkAuthorized('newTrigger');
    const app = this;
    const spec = {functionName, everyHours: null, everyDays: null, atHour: null, everyMinutes: null, nearMinute: null, timeZone: null};
    const clock = {
      everyHours(n) {
        if (!VALID_HOURS.includes(n)) throw new Error('Exception: Invalid argument: hours. Should be one of: 1, 2, 4, 6, 8 or 12');
        spec.everyHours = n;
        return clock;
      },
      everyDays(n) { spec.everyDays = n; return clock; },
      everyMinutes(n) {
        if (!VALID_MINUTES.includes(n)) throw new Error('Exception: Invalid argument: minutes. Should be one of: 1, 5, 10, 15 or 30');
        spec.everyMinutes = n;
        return clock;
      },
      atHour(hour) {
        if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new Error('Exception: Invalid argument: hour');
        spec.atHour = hour;
        return clock;
      },
      nearMinute(minute) { spec.nearMinute = minute; return clock; },
      inTimezone(timeZone) {
        try {
          new Intl.DateTimeFormat('en', {timeZone});
        } catch {
          throw new Error(`Exception: Invalid argument: timezone ${timeZone}`);
        }
        spec.timeZone = timeZone;
        return clock;
      },
      create() {
        if (!spec.everyHours && !spec.everyDays && !spec.everyMinutes) {
          throw new Error('Exception: Trigger has no schedule: call everyHours, everyDays or everyMinutes.');
        }
        if (spec.atHour !== null && !spec.everyDays) {
          throw new Error('Exception: atHour only applies to daily or weekly triggers.');
        }
        return app.wrap(app.registry.add(app.execution().user, app.documentId, spec));
      },
    };
    return {
      timeBased() { return clock; },
      forSpreadsheet() { throw new Error('fake: spreadsheet triggers are not modelled'); },
    };
  }

  wrap(trigger) {
    return {
      spec: trigger.spec,
      owner: trigger.owner,
      getUniqueId: () => trigger.id,
      getHandlerFunction: () => trigger.spec.functionName,
      getEventType: () => trigger.eventType,
      getTriggerSource: () => this.TriggerSource.CLOCK,
      getTriggerSourceId: () => null,
    };
  }

  /** "Gets all installable triggers associated with the current project and current user." */
  getProjectTriggers() {
    this.checkAuthorized('getProjectTriggers');
    return this.registry.ofUser(this.execution().user).map((trigger) => this.wrap(trigger));
  }

  getUserTriggers() {
    this.checkAuthorized('getUserTriggers');
    const user = this.execution().user;
    return this.registry.triggers.filter((t) => t.owner === user && t.document === this.documentId).map((t) => this.wrap(t));
  }

  deleteTrigger(trigger) {
    this.checkAuthorized('deleteTrigger');
    const id = trigger.getUniqueId();
    const own = this.registry.ofUser(this.execution().user).some((t) => t.id === id);
    if (!own) throw new Error('Exception: No such trigger for this user.');
    this.registry.remove(id);
  }

  getIdentityToken() {
    this.checkAuthorized('getIdentityToken');
    return this.identityToken;
  }

  getOAuthToken() {
    this.checkAuthorized('getOAuthToken');
    return 'fake-oauth-token';
  }

  getScriptId() { return 'fake-script-id'; }
}

/** Bytes as Apps Script returns them: signed, -128..127. */
function signedBytes(buffer) {
  return Array.from(buffer, (byte) => (byte > 127 ? byte - 256 : byte));
}

function toBuffer(value, charset) {
  if (typeof value === 'string') return Buffer.from(value, charset === 'US_ASCII' ? 'ascii' : 'utf8');
  return Buffer.from(Array.from(value, (byte) => byte & 0xff));
}

function makeUtilities(clock, execution) {
  const algorithms = {MD2: 'md2', MD5: 'md5', SHA_1: 'sha1', SHA_256: 'sha256', SHA_384: 'sha384', SHA_512: 'sha512'};
  return {
    DigestAlgorithm: Object.freeze(Object.fromEntries(Object.keys(algorithms).map((name) => [name, name]))),
    Charset: Object.freeze({US_ASCII: 'US_ASCII', UTF_8: 'UTF_8'}),
    computeDigest(algorithm, value, charset) {
      const name = algorithms[algorithm];
      if (!name) throw new Error(`Exception: Invalid argument: algorithm ${algorithm}`);
      return signedBytes(crypto.createHash(name).update(toBuffer(value, charset)).digest());
    },
    base64Encode(value, charset) { return toBuffer(value, charset).toString('base64'); },
    base64EncodeWebSafe(value, charset) {
      return toBuffer(value, charset).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    },
    base64Decode(text) { return signedBytes(Buffer.from(text, 'base64')); },
    getUuid() { return crypto.randomUUID(); },
    sleep(milliseconds) {
      if (milliseconds > 300000) throw new Error('Exception: Invalid argument: milliseconds');
      clock.advance(milliseconds);
      execution().checkTime();
    },
    formatDate: formatDate,
  };
}

/**
 * Utilities.formatDate for the SimpleDateFormat letters this project uses
 * (yyyy MM dd HH mm ss, EEE, z, and quoted text), in an IANA time zone.
 */
function formatDate(date, timeZone, pattern) {
  if (!(date instanceof Date) && !(date && typeof date.getTime === 'function')) {
    throw new Error('Exception: Invalid argument: date');
  }
  let parts;
  try {
    parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      second: '2-digit', weekday: 'short', timeZoneName: 'short', hourCycle: 'h23',
    }).formatToParts(new Date(date.getTime())).map((part) => [part.type, part.value]));
  } catch {
    throw new Error(`Exception: Invalid argument: timeZone ${timeZone}`);
  }
  const letters = {yyyy: parts.year, MM: parts.month, dd: parts.day, HH: parts.hour, mm: parts.minute,
    ss: parts.second, EEE: parts.weekday, z: parts.timeZoneName};
  return pattern.replace(/'([^']*)'|yyyy|MM|dd|HH|mm|ss|EEE|z/g, (token, quoted) => (
    quoted !== undefined ? quoted : letters[token]));
}

/**
 * Session for whoever runs the current execution: the person at the keyboard, or the
 * trigger's owner in a trigger run (triggers "run under the account of the person who
 * created them"). A trigger of a consumer account sees no active user.
 */
function makeSession(execution, scriptTimeZone) {
  const user = (email) => ({getEmail: () => email});
  return {
    getActiveUser: () => user(execution().kind === 'trigger' ? '' : execution().user),
    getEffectiveUser: () => user(execution().user),
    getScriptTimeZone: () => scriptTimeZone,
    getActiveUserLocale: () => 'en',
  };
}

class FakeHtmlOutput {
  constructor(content) {
    this.content = content;
    this.title = '';
    this.width = null;
    this.height = null;
  }
  getContent() { return this.content; }
  setContent(content) { this.content = content; return this; }
  append(content) { this.content += content; return this; }
  setTitle(title) { this.title = title; return this; }
  getTitle() { return this.title; }
  setWidth(width) { this.width = width; return this; }
  getWidth() { return this.width; }
  setHeight(height) { this.height = height; return this; }
  getHeight() { return this.height; }
  setSandboxMode() { return this; }
  setXFrameOptionsMode() { return this; }
  addMetaTag() { return this; }
}

/**
 * Turns a template's text into the body of a function returning the page, as
 * HtmlService does: `<? code ?>` runs, `<?= expr ?>` prints escaped for HTML,
 * `<?!= expr ?>` prints as is. Contextual escaping (a `<?= ?>` inside <script>,
 * <style> or an attribute) is not modelled and throws, as does a `<?` never closed.
 * @param {string} name The file name, for messages.
 * @param {string} source The template text.
 * @return {string} JavaScript using `__out` and `__escape`.
 */
function compileTemplate(name, source) {
  const lineOf = (index) => source.slice(0, index).split('\n').length;
  let code = 'let __out = "";\n';
  let last = 0;
  for (let open = source.indexOf('<?'); open !== -1; open = source.indexOf('<?', last)) {
    const close = source.indexOf('?>', open + 2);
    if (close === -1) throw new Error(`fake HtmlService: ${name}.html line ${lineOf(open)}: "<?" is never closed by "?>".`);
    const text = source.slice(last, open);
    const kind = source.startsWith('<?!=', open) ? '!=' : source.startsWith('<?=', open) ? '=' : '';
    const body = source.slice(open + 2 + kind.length, close);
    code += `__out += ${JSON.stringify(text)};\n`;
    if (kind === '=') {
      const before = source.slice(0, open);
      const inRawText = ['script', 'style'].some((tag) =>
        before.lastIndexOf(`<${tag}`) > before.lastIndexOf(`</${tag}`));
      if (inRawText || /<[a-z][^>]*$/i.test(before)) {
        throw new Error(`fake HtmlService: ${name}.html line ${lineOf(open)}: "<?=" inside a tag, <script> or <style> needs ` +
            'contextual escaping, which this fake does not model; print HTML text or use "<?!=".');
      }
      code += `__out += __escape(${body});\n`;
    } else if (kind === '!=') {
      code += `__out += String(${body});\n`;
    } else {
      code += `${body}\n`;
    }
    last = close + 2;
  }
  return `${code}__out += ${JSON.stringify(source.slice(last))};\nreturn __out;`;
}

/** HtmlTemplate: the properties set on it are variables of its scriptlets. */
class FakeHtmlTemplate {
  constructor(name, source, evaluateInScript) {
    Object.defineProperty(this, 'meta', {value: {name, source, evaluateInScript}});
  }
  getRawContent() { return this.meta.source; }
  getCode() { throw new Error('fake HtmlService: HtmlTemplate.getCode is not modelled.'); }
  getCodeWithComments() { throw new Error('fake HtmlService: HtmlTemplate.getCodeWithComments is not modelled.'); }
  evaluate() {
    const {name, source, evaluateInScript} = this.meta;
    return new FakeHtmlOutput(evaluateInScript(compileTemplate(name, source), {...this}, name));
  }
}

function makeHtmlService(appsScriptDir, evaluateInScript) {
  const read = (name) => {
    const file = path.join(appsScriptDir, name.endsWith('.html') ? name : `${name}.html`);
    if (!fs.existsSync(file)) throw new Error(`Exception: No HTML file named ${name} was found.`);
    return fs.readFileSync(file, 'utf8');
  };
  return {
    SandboxMode: Object.freeze({IFRAME: 'IFRAME', NATIVE: 'NATIVE', EMULATED: 'EMULATED'}),
    XFrameOptionsMode: Object.freeze({ALLOWALL: 'ALLOWALL', DEFAULT: 'DEFAULT'}),
    createHtmlOutput: (content = '') => new FakeHtmlOutput(content),
    createHtmlOutputFromFile: (name) => new FakeHtmlOutput(read(name)),
    createTemplateFromFile: (name) => new FakeHtmlTemplate(name.replace(/\.html$/, ''), read(name), evaluateInScript),
  };
}

class FakeHttpResponse {
  constructor(status, headers, body) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
  getResponseCode() { return this.status; }
  getContentText() { return this.body.toString('utf8'); }
  getContent() { return signedBytes(this.body); }
  getHeaders() {
    return Object.fromEntries(Object.entries(this.headers).map(([key, value]) => [
      key.replace(/(^|-)([a-z])/g, (all, dash, letter) => dash + letter.toUpperCase()),
      Array.isArray(value) ? value.join(', ') : value,
    ]));
  }
  getAllHeaders() { return this.getHeaders(); }
}

/** Whether a URL matches the manifest's urlFetchWhitelist ("https://*.run.app/" style prefixes). */
function allowedByManifest(url, prefixes) {
  return prefixes.some((prefix) => {
    const wildcard = /^https:\/\/\*\.(.*)$/.exec(prefix);
    if (!wildcard) return url.startsWith(prefix);
    const rest = wildcard[1];
    const slash = rest.indexOf('/');
    const domain = rest.slice(0, slash);
    const pathPrefix = rest.slice(slash);
    const parsed = /^https:\/\/([^/]+)(\/.*)?$/.exec(url);
    if (!parsed) return false;
    return parsed[1].endsWith(`.${domain}`) && (parsed[2] || '/').startsWith(pathPrefix);
  });
}

/**
 * UrlFetchApp making real, blocking HTTP calls. Loopback http URLs are allowed for
 * tests; any other URL must match the manifest's urlFetchWhitelist.
 */
function makeUrlFetchApp({http, manifest, execution, clock, record, onFetch, beforeFetch, timeoutMs = URL_FETCH_TIMEOUT_MS}) {
  const whitelist = manifest.urlFetchWhitelist || [];
  return {
    fetch(url, params = {}) {
      if (execution().kind === 'simple') {
        throw new Error('Exception: You do not have permission to call UrlFetchApp.fetch. Required permissions: https://www.googleapis.com/auth/script.external_request');
      }
      const loopback = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);
      if (!loopback && !allowedByManifest(url, whitelist)) {
        throw new Error(`Exception: Access to URL ${url} is not allowed by the urlFetchWhitelist of the manifest.`);
      }
      const method = String(params.method || 'get').toUpperCase();
      const headers = {...(params.headers || {})};
      let body = null;
      if (params.payload !== undefined && params.payload !== null) {
        if (typeof params.payload !== 'string') throw new Error('fake: only string payloads are modelled');
        body = Buffer.from(params.payload, 'utf8');
        headers['Content-Type'] = params.contentType || 'application/x-www-form-urlencoded';
      }
      const entry = {url, method, headers, payload: params.payload === undefined ? null : params.payload, execution: execution().id, status: null};
      record(entry);
      if (beforeFetch) beforeFetch(entry);
      const limit = execution().deadline - clock.now();
      const wait = Math.min(timeoutMs, Math.max(limit, 0));
      const answer = http.request({url, method, headers, body}, wait);
      if (answer.timedOut) entry.status = 'timeout';
      if (onFetch) onFetch(entry);
      // A fetch cannot outlive its execution: cut at the deadline, the execution is killed.
      execution().checkTime();
      if (answer.timedOut) {
        if (wait >= limit) execution().kill();
        throw new Error(`Exception: Timeout: ${url}`);
      }
      if (answer.error) {
        entry.status = 'error';
        throw new Error(`Exception: Address unavailable: ${url}`);
      }
      entry.status = answer.status;
      entry.body = answer.body.toString('utf8');
      const response = new FakeHttpResponse(answer.status, answer.headers, answer.body);
      if (answer.status >= 400 && !params.muteHttpExceptions) {
        throw new Error(`Exception: Request failed for ${url} returned code ${answer.status}. Truncated server response: ${entry.body.slice(0, 100)} (use muteHttpExceptions option to examine full response)`);
      }
      return response;
    },
    fetchAll() {
      throw new Error('fake: fetchAll is not used by this project');
    },
  };
}

module.exports = {
  FakeCache, LIMITS, MESSAGES, FakeProperties, FakeLock, LockRegistry, FakeScriptApp, TriggerRegistry, makeUtilities, makeSession, formatDate,
  QUOTA_EXCEEDED,
  makeHtmlService, compileTemplate, makeUrlFetchApp, allowedByManifest, MAX_ITEMS,
};
