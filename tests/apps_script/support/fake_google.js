'use strict';
/**
 * What Google holds for one Apps Script project across every spreadsheet and user: one
 * clock, the installable triggers of every user (20 per user per script, whatever the
 * spreadsheet), the script cache and script properties, each user's cache and properties,
 * the locks, and each user's daily quotas (UrlFetch calls, property reads and writes,
 * trigger runtime). Each spreadsheet is an AppsScript harness attached to it:
 *
 *     const google = new FakeGoogle({addon: true});
 *     const a = new AppsScript({google, spreadsheetId: 'A', user: 'ann@example.com'});
 *     const b = new AppsScript({google, spreadsheetId: 'B', user: 'ann@example.com'});
 *     google.advance(3600000);   // fires every due trigger, each in its own spreadsheet
 *
 * A harness built without `google` gets one of its own, so single-spreadsheet tests do not
 * change.
 */
const {FakeCache, FakeProperties, LockRegistry, TriggerRegistry} = require('./fake_services');
const {LIMITS, MESSAGES} = require('./limits');

/**
 * A per-user daily quota: "Quotas are per user and reset 24 hours after the first request"
 * (developers.google.com/apps-script/guides/services/quotas).
 */
class DailyQuota {
  /**
   * @param {string} service The name in "Service invoked too many times for one day: <service>."
   * @param {{consumer: number, workspace: number}} limits Calls a day by account kind.
   * @param {function(string): string} accountOf A user's account kind.
   * @param {{now: function(): number}} clock
   */
  constructor(service, limits, accountOf, clock) {
    this.service = service;
    this.limits = limits;
    this.accountOf = accountOf;
    this.clock = clock;
    this.windows = new Map();
  }

  window(user) {
    const now = this.clock.now();
    let window = this.windows.get(user);
    if (!window || now >= window.since + LIMITS.quotaWindowMs) {
      window = {since: now, used: 0};
      this.windows.set(user, window);
    }
    return window;
  }

  /** Counts `n` calls by `user`, or throws as Apps Script does once the day's quota is used. */
  charge(user, n = 1) {
    const window = this.window(user);
    if (window.used + n > this.limits[this.accountOf(user)]) throw new Error(MESSAGES.dailyQuota(this.service));
    window.used += n;
  }

  /** Calls `user` made in the current window. */
  used(user) {
    const window = this.windows.get(user);
    return window && this.clock.now() < window.since + LIMITS.quotaWindowMs ? window.used : 0;
  }

  /** Test hook: as if `user` had already made `n` calls today. */
  preload(user, n) { this.window(user).used = n; }
}

class FakeGoogle {
  /**
   * @param {Object} [options]
   * @param {boolean} [options.addon] The project is an Editor add-on (its trigger rules apply).
   * @param {string} [options.account] Default account kind: 'consumer' or 'workspace'.
   * @param {Object<string, string>} [options.accounts] Account kind by user email.
   * @param {string} [options.scriptTimeZone]
   * @param {Object<string, string>} [options.scriptProperties]
   * @param {Object<string, Object<string, string>>} [options.userProperties] Per user email.
   */
  constructor(options = {}) {
    const google = this;
    this.offsetMs = 0;
    this.clock = {
      now: () => Date.now() + google.offsetMs,
      advance: (ms) => { google.offsetMs += ms; },
      set: (ms) => { google.offsetMs += Math.max(0, ms - (Date.now() + google.offsetMs)); },
      /** Puts the clock at `ms`, even backwards: only executions Sheets runs at once use it. */
      travel: (ms) => { google.offsetMs += ms - (Date.now() + google.offsetMs); },
    };
    this.addon = Boolean(options.addon);
    this.defaultAccount = options.account || 'consumer';
    this.accounts = {...(options.accounts || {})};
    const accountOf = (user) => this.accounts[user] || this.defaultAccount;
    this.accountOf = accountOf;
    this.triggers = new TriggerRegistry({
      clock: this.clock, addon: this.addon, account: this.defaultAccount, scriptTimeZone: options.scriptTimeZone || 'Etc/UTC',
    });
    this.triggers.accountOf = accountOf;
    this.locks = new LockRegistry(() => null, this.clock);
    this.scriptCache = new FakeCache(this.clock.now);
    this.userCaches = new Map();
    this.scriptProperties = new FakeProperties(options.scriptProperties, this.clock.now);
    this.userPropertiesByUser = new Map(Object.entries(options.userProperties || {})
        .map(([email, values]) => [email, new FakeProperties(values, this.clock.now)]));
    this.quotas = {
      urlFetch: new DailyQuota('urlfetch', LIMITS.urlFetch.callsPerDay, accountOf, this.clock),
      properties: new DailyQuota('properties', LIMITS.properties.readsWritesPerDay, accountOf, this.clock),
    };
    /** E-mails Google sent about failed trigger runs (never for an add-on). */
    this.failureEmails = [];
    this.harnesses = new Map();
  }

  /** Registers a spreadsheet's harness under its id (each trigger runs in its own spreadsheet). */
  attach(harness, spreadsheetId) {
    if (this.harnesses.has(spreadsheetId)) throw new Error(`fake: two harnesses for spreadsheet ${spreadsheetId}; give each its own spreadsheetId`);
    this.harnesses.set(spreadsheetId, harness);
  }

  /** A user's User Properties (one store per user for the whole project). */
  userProperties(email) {
    if (!this.userPropertiesByUser.has(email)) this.userPropertiesByUser.set(email, new FakeProperties({}, this.clock.now));
    return this.userPropertiesByUser.get(email);
  }

  /** Minutes of trigger runtime `email` used in the current 24-hour window. */
  triggerMinutesUsed(email) {
    return this.triggers.usedMs(email) / 60000;
  }

  /**
   * Runs `actions` (each a function doing one thing through a harness: a sidebar call, a
   * recalculation, a trigger run...) as if they started at the same moment: the clock is put
   * back to the common start before each, and left where the last one finished. Their locks
   * contend and their waits cost clock time; what one writes is visible to those run after
   * it (kinder than Google, see docs/apps-script-fake.md).
   * @param {Array<function(): *>} actions
   * @return {Array<{value: *}|{error: Error}>} What each returned or threw, in order.
   */
  together(actions) {
    const start = this.clock.now();
    let last = start;
    const outcomes = actions.map((action) => {
      this.clock.travel(start);
      let outcome;
      try {
        outcome = {value: action()};
      } catch (error) {
        outcome = {error};
      }
      last = Math.max(last, this.clock.now());
      return outcome;
    });
    this.clock.travel(last);
    return outcomes;
  }

  /**
   * Lets `ms` pass, firing every due time-driven trigger of every user and spreadsheet in
   * time order, each in its own spreadsheet as its owner.
   * @return {Array<Object>} What each trigger run did (with its spreadsheet's id).
   */
  advance(ms) {
    const target = this.clock.now() + ms;
    const runs = [];
    for (let guard = 0; guard < 100000; guard++) {
      const due = this.triggers.nextDue(target);
      if (!due) break;
      this.clock.set(due.nextAt);
      due.nextAt = this.triggers.after(due, Math.max(due.nextAt, this.clock.now() - 1));
      const harness = this.harnesses.get(due.document);
      if (!harness) throw new Error(`fake: trigger ${due.id} belongs to spreadsheet ${due.document}, which has no harness`);
      runs.push({spreadsheetId: due.document, ...harness.fireTrigger(due)});
    }
    this.clock.set(target);
    return runs;
  }
}

module.exports = {FakeGoogle, DailyQuota};
