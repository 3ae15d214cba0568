'use strict';
/**
 * The rules of Google's runtime that the AppsScript harness (support/apps_script.js) does
 * not model by itself, applied to a harness once it is built (`applyStrictness`, one call at
 * the end of its constructor):
 *
 * - one FakeGoogle per project: several spreadsheets and users share one clock, the
 *   triggers (20 per user per script), the script and user stores, locks and daily quotas;
 * - a killed execution stays dead: once past its deadline (30 s for a custom function or a
 *   simple trigger, 6 min otherwise) every call to a Google service throws "Exceeded maximum execution
 *   time", so nothing the script does after the kill point has an effect, whatever it
 *   catches (guides/sheets/functions: the cell shows #ERROR!);
 * - daily quotas per user: UrlFetch calls and property reads/writes (guides/services/quotas);
 * - no failure e-mails for an add-on's triggers (workspace/add-ons/concepts/editor-triggers:
 *   "Add-ons don't automatically send the user an email when code run by an installable
 *   trigger throws an exception"); a bound script's owner gets one per failed run;
 * - recalculation only when a formula's text or a referenced value changed
 *   (guides/sheets/functions documents those; re-entering identical text is undocumented,
 *   so the fake never recalculates it and shows the answer it had);
 * - formulas Sheets calculates together run as simultaneous executions, 30 at a time per
 *   user (guides/services/quotas: "Simultaneous executions per user 30"), each from the
 *   batch's start time, so locks contend and waits cost clock time;
 * - `getDocumentLock()` may return null (reference/lock/lock-service: "Lock|null");
 * - a change an execution leaves in a global is an error (each Apps Script execution starts
 *   with fresh globals).
 *
 * Every rule is on by default (STRICT_DEFAULTS); one the add-in cannot pass yet may be turned
 * off there for a while and on again per test with `strict: true` or `strict: {rule: true}`.
 * `strict: false` turns every rule of this file off (the harness as it was).
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const {FakeGoogle} = require('./fake_google');
const {FakeLock} = require('./fake_services');
const {LIMITS, MESSAGES} = require('./limits');

/** Which rules apply when a test says nothing (true: on by default). */
const STRICT_DEFAULTS = Object.freeze({
  kill: true,
  quotas: true,
  failureEmails: true,
  simultaneous: true,
  nullDocumentLock: true,
  freshGlobals: true,
  recalculation: true,
});

/**
 * Each execution starts with the files' globals as written: Google offers CacheService and
 * PropertiesService to keep state between executions and documents nothing else that
 * survives (the fake's assumption). The harness keeps one context, so it checks instead: an
 * execution that leaves a global changed fails the test, naming it.
 */
function installFreshGlobals(harness) {
  // Required here: apps_script.js requires this file while it loads.
  const {APPS_SCRIPT_DIR} = require('./apps_script');
  const names = harness.files.flatMap((file) => [...fs.readFileSync(path.join(APPS_SCRIPT_DIR, file), 'utf8')
      .matchAll(/^(?:const|let|var)\s+([A-Za-z_$][\w$]*)/gm)].map((match) => match[1]));
  const read = vm.runInContext(`(function (names) {
      return names.map(function (name) {
        try { var value = eval(name); return typeof value === 'function' ? 'function' : JSON.stringify(value); }
        catch (e) { return 'unreadable'; }
      });
    })`, harness.context);
  const keys = () => Object.keys(harness.context).filter((key) => typeof harness.context[key] !== 'function');
  const before = read(names);
  const globalKeys = new Set(keys());
  const execute = harness.execute.bind(harness);
  harness.execute = (...args) => {
    const outcome = execute(...args);
    const after = read(names);
    const changed = names.filter((name, i) => after[i] !== before[i]).concat(keys().filter((key) => !globalKeys.has(key)));
    if (changed.length) {
      throw new Error(`fake: ${args[1]} left global ${changed.join(', ')} changed; Apps Script starts each execution ` +
          'with fresh globals, so the next one would not see it');
    }
    return outcome;
  };
}

/** The Google services a script sees (console and Logger stay unguarded: they change nothing). */
const SERVICES = ['SpreadsheetApp', 'CacheService', 'PropertiesService', 'LockService', 'ScriptApp', 'Utilities',
  'Session', 'HtmlService', 'UrlFetchApp'];

/**
 * The rules a harness applies: STRICT_DEFAULTS, all of them with `strict: true`, none of the
 * optional ones with `strict: false`, or per rule with an object.
 * @param {boolean|Object<string, boolean>|undefined} strict
 * @return {Object<string, boolean>}
 */
function resolveStrict(strict) {
  // PRONTO_FAKE_STRICT=1 runs every test under every rule (or =rule,rule under those): how
  // to list what the add-in still fails.
  const fromEnv = process.env.PRONTO_FAKE_STRICT;
  if (strict === undefined && fromEnv === '1') return resolveStrict(true);
  if (strict === undefined && fromEnv === '0') return resolveStrict(false);
  if (strict === undefined && fromEnv) return resolveStrict(Object.fromEntries(fromEnv.split(',').map((rule) => [rule.trim(), true])));
  if (strict === true) return Object.fromEntries(Object.keys(STRICT_DEFAULTS).map((rule) => [rule, true]));
  if (strict === false) return Object.fromEntries(Object.keys(STRICT_DEFAULTS).map((rule) => [rule, false]));
  const rules = {...STRICT_DEFAULTS, ...(strict || {})};
  Object.keys(rules).forEach((rule) => {
    if (!(rule in STRICT_DEFAULTS)) throw new Error(`fake: no strict rule named ${rule}`);
  });
  return rules;
}

/** Whether `value` is an object whose methods a script calls (a service, a range, a cache...). */
function hasMethods(value) {
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.isFrozen(value)) return false;
  if (Object.values(value).some((v) => typeof v === 'function')) return true;
  const proto = Object.getPrototypeOf(value);
  return Boolean(proto && proto !== Object.prototype &&
      Object.getOwnPropertyNames(proto).some((name) => name !== 'constructor' && typeof value[name] === 'function'));
}

/**
 * Wraps the script's services so every call first checks that its execution is alive, charges
 * the calling user's daily quotas, and wraps what it returns the same way.
 * @param {Object} harness The AppsScript harness.
 * @param {Object} rules From resolveStrict.
 */
function guardServices(harness, rules) {
  const proxies = new WeakMap();
  const targets = new WeakMap();
  const google = harness.google;

  const alive = () => {
    const execution = harness.current;
    if (!execution || !rules.kill) return;
    if (execution.killed || harness.clock.now() > execution.deadline) {
      execution.killed = true;
      throw new Error(MESSAGES.exceeded);
    }
  };
  const charge = (service, method, args) => {
    if (!rules.quotas || !harness.current) return;
    const user = harness.current.user;
    if (service === 'Properties') google.quotas.properties.charge(user);
    if (service === 'UrlFetchApp' && method === 'fetch') google.quotas.urlFetch.charge(user);
    if (service === 'UrlFetchApp' && method === 'fetchAll') google.quotas.urlFetch.charge(user, (args[0] || []).length);
  };
  const unwrap = (value) => (targets.has(value) ? targets.get(value) : value);
  const wrap = (value, service) => {
    if (!hasMethods(value)) return value;
    if (proxies.has(value)) return proxies.get(value);
    const proxy = new Proxy(value, {
      get(target, property) {
        const member = Reflect.get(target, property, target);
        if (typeof member !== 'function' || typeof property === 'symbol') return wrap(member, service);
        return function guarded(...args) {
          alive();
          charge(service, property, args);
          const result = member.apply(target, args.map(unwrap));
          // Time may have passed inside (sleep, fetch, a lock wait): past the deadline the
          // execution is dead and what it asked for is not handed back.
          alive();
          return wrap(result, service === 'PropertiesService' ? 'Properties' : service);
        };
      },
    });
    proxies.set(value, proxy);
    targets.set(proxy, value);
    return proxy;
  };
  SERVICES.forEach((name) => {
    harness.context[name] = wrap(harness.context[name], name);
  });
}

/**
 * LockService for a harness: the document lock is per spreadsheet, the script lock shared by
 * every spreadsheet and user of the project, the user lock per user.
 */
function makeLockService(harness, rules, nullDocumentLock) {
  const registry = harness.google.locks;
  const execution = () => harness.current || {id: 0, kind: 'none', user: harness.user};
  return {
    // reference/lock/lock-service: getDocumentLock() returns "Lock|null": null "if this method
    // is called outside of the context of a containing document". In custom functions Lock
    // "Works, but not particularly useful" (guides/sheets/functions): a lock by default there.
    getDocumentLock: () => (rules.nullDocumentLock && nullDocumentLock(execution()) ? null :
      new FakeLock(registry, `document:${harness.spreadsheet.getId()}`, execution)),
    getScriptLock: () => new FakeLock(registry, 'script', execution),
    getUserLock: () => new FakeLock(registry, `user:${execution().user}`, execution),
  };
}

/** Cells of `sheet` holding a formula that calls one of the script's functions. */
function formulaCells(harness, sheet) {
  const cells = [];
  sheet.rows.forEach((line, r) => (line || []).forEach((cell, c) => {
    if (formulaCall(harness, cell)) cells.push({sheet, row: r + 1, column: c + 1});
  }));
  return cells;
}

/** The custom function a formula cell calls, with its argument text, or null. */
function formulaCall(harness, cell) {
  const match = cell && cell.f && /^=\s*([A-Z_][A-Z0-9_]*)\s*\((.*)\)\s*$/i.exec(cell.f);
  if (!match || typeof harness.context[match[1].toUpperCase()] !== 'function') return null;
  return {name: match[1].toUpperCase(), argumentText: match[2]};
}

/**
 * Recalculation as Sheets documents it: a formula is calculated when its text is new or
 * changed, or when a value it references changed; otherwise it keeps its answer (even when
 * a script cleared it and wrote the identical text back: undocumented, so not relied on).
 * Formulas calculated together run as simultaneous executions (see runTogether).
 */
function installRecalculation(harness, rules) {
  const memos = new Map();
  const keyOf = (sheet, row, column) => `${sheet.getSheetId()}:${row}:${column}`;
  const argumentsKey = (sheet, call) => {
    try {
      return JSON.stringify(harness.formulaArguments(sheet, call.argumentText));
    } catch (error) {
      return `unreadable: ${error.message}`;
    }
  };
  const snapshot = (sheet, row, column) => {
    const anchor = sheet.cell(row, column);
    const spill = anchor && anchor.spill ? anchor.spill : {rows: 1, columns: 1};
    const values = [];
    for (let r = 0; r < spill.rows; r++) {
      for (let c = 0; c < spill.columns; c++) if (r || c) values.push([row + r, column + c, sheet.cell(row + r, column + c)]);
    }
    return {anchor: {...anchor}, values};
  };
  const restore = (sheet, row, column, memo) => {
    const cell = sheet.cell(row, column);
    if (!cell || cell.spill || (cell.v !== '' && cell.v !== undefined)) return;
    sheet.put(row, column, {...memo.snapshot.anchor, f: cell.f});
    memo.snapshot.values.forEach(([r, c, value]) => {
      const now = sheet.cell(r, c);
      if (!now || now.v === '' || now.v === undefined) sheet.put(r, c, value ? {...value} : {v: ''});
    });
  };
  const original = harness.recalculateCell.bind(harness);
  harness.recalculateCell = (sheet, row, column) => {
    const cell = sheet.cell(row, column);
    const call = formulaCall(harness, cell);
    const key = call ? argumentsKey(sheet, call) : null;
    const outcome = original(sheet, row, column);
    if (call) memos.set(keyOf(sheet, row, column), {f: cell.f, args: key, snapshot: snapshot(sheet, row, column)});
    return outcome;
  };

  /** Formula cells of `sheets` that need calculating; `typed` says whether unknown ones do. */
  const due = (sheets, entered) => {
    const out = [];
    sheets.forEach((sheet) => sheet.rows.forEach((line, r) => (line || []).forEach((cell, c) => {
      const call = formulaCall(harness, cell);
      if (!call) return;
      const [row, column] = [r + 1, c + 1];
      const key = keyOf(sheet, row, column);
      const memo = memos.get(key);
      const args = argumentsKey(sheet, call);
      if (!memo) {
        if (entered(sheet, row, column)) out.push({sheet, row, column});
        // A cell the test laid out as already calculated: what it shows is its answer.
        else memos.set(key, {f: cell.f, args, snapshot: snapshot(sheet, row, column)});
      } else if (memo.f !== cell.f || memo.args !== args) {
        out.push({sheet, row, column});
      } else {
        restore(sheet, row, column, memo);
      }
    })));
    return out;
  };

  harness.settle = () => {
    const written = new Set(harness.spreadsheet.dirty.map(({sheet, row, column}) => keyOf(sheet, row, column)));
    harness.spreadsheet.dirty = [];
    runTogether(harness, rules, due(harness.spreadsheet.sheets, (sheet, row, column) => written.has(keyOf(sheet, row, column))));
  };
  /**
   * Calculates what Sheets would now: formulas a person typed (never calculated) and those
   * whose text or referenced values changed. `force` calculates every formula, as Sheets may
   * at any time without saying when: tests use it to show a recalculation costs nothing,
   * never to make one happen.
   */
  harness.recalculate = (sheetName, {force = false} = {}) => {
    const sheet = harness.sheet(sheetName);
    const cells = force ? formulaCells(harness, sheet) : due([sheet], () => true);
    return runTogether(harness, rules, cells).filter(Boolean);
  };
}

/**
 * Calculates `cells`, as Sheets runs custom functions: all start together, at most 30 run at
 * once per user (the rest start as slots free up), each on the clock from its own start. The
 * harness runs them one after another; the clock is put back to each one's start time, and
 * at the end to when the last one finished.
 */
function runTogether(harness, rules, cells) {
  if (!rules.simultaneous || cells.length < 2) return cells.map(({sheet, row, column}) => harness.recalculateCell(sheet, row, column));
  const clock = harness.google.clock;
  const start = clock.now();
  const running = [];
  let last = start;
  const outcomes = cells.map(({sheet, row, column}) => {
    running.sort((a, b) => a - b);
    const at = running.length >= LIMITS.runtime.simultaneousPerUser ? Math.max(start, running.shift()) : start;
    clock.travel(at);
    const outcome = harness.recalculateCell(sheet, row, column);
    const end = clock.now();
    running.push(end);
    last = Math.max(last, end);
    return outcome;
  });
  clock.travel(last);
  return outcomes;
}

/**
 * Applies the rules to a freshly built harness (called at the end of its constructor).
 * @param {Object} harness The AppsScript harness.
 * @param {Object} options The harness's options: `google` (a shared FakeGoogle),
 *     `spreadsheetId`, `strict`, `nullDocumentLock` (function(execution): boolean, when
 *     getDocumentLock() returns null under the nullDocumentLock rule; default: in an
 *     add-on's time-driven trigger runs, the fake's assumption that they run with no
 *     containing document).
 */
function applyStrictness(harness, options = {}) {
  const rules = resolveStrict(options.strict);
  const google = options.google || new FakeGoogle({
    addon: options.addon, account: options.account, scriptTimeZone: harness.manifest.timeZone,
    scriptProperties: options.scriptProperties, userProperties: options.userProperties,
  });
  if (options.google && options.addon !== undefined && Boolean(options.addon) !== google.addon) {
    throw new Error('fake: `addon` belongs to the FakeGoogle (one project), not to one spreadsheet');
  }
  harness.google = google;
  harness.rules = rules;

  let id = options.spreadsheetId || harness.spreadsheet.getId();
  for (let n = 2; google.harnesses.has(id) && !options.spreadsheetId; n++) id = `${harness.spreadsheet.getId().slice(0, -4)}${String(n).padStart(4, '0')}`;
  harness.spreadsheet.id = id;
  harness.scriptApp.documentId = id;
  google.attach(harness, id);

  // One clock for the project: the harness's clock reads and moves the shared offset.
  if (options.google) google.offsetMs = Math.max(google.offsetMs, harness.offsetMs);
  else google.offsetMs = harness.offsetMs;
  Object.defineProperty(harness, 'offsetMs', {get: () => google.offsetMs, set: (value) => { google.offsetMs = value; }});
  harness.clock.travel = google.clock.travel;

  harness.scriptCache = google.scriptCache;
  harness.userCaches = google.userCaches;
  if (options.google) {
    Object.entries(options.scriptProperties || {}).forEach(([key, value]) => google.scriptProperties.setProperty(key, value));
    Object.entries(options.userProperties || {}).forEach(([email, values]) => {
      Object.entries(values).forEach(([key, value]) => google.userProperties(email).setProperty(key, value));
    });
  }
  harness.scriptProperties = google.scriptProperties;
  harness.userPropertiesByUser = google.userPropertiesByUser;
  harness.userProperties = (email) => google.userProperties(email);
  harness.documentProperties.now = google.clock.now;
  harness.triggerRegistry = google.triggers;
  harness.scriptApp.registry = google.triggers;
  harness.locks = google.locks;

  const nullDocumentLock = options.nullDocumentLock || ((execution) => google.addon && execution.kind === 'trigger');
  harness.context.LockService = makeLockService(harness, rules, nullDocumentLock);
  guardServices(harness, rules);

  harness.advance = (ms) => google.advance(ms);
  // Every installed trigger once, now, each in its own spreadsheet.
  harness.fireTimeTriggers = () => google.triggers.triggers.slice()
      .map((trigger) => google.harnesses.get(trigger.document).fireTrigger(trigger));
  const fireTrigger = harness.fireTrigger.bind(harness);
  harness.fireTrigger = (trigger) => {
    const run = fireTrigger(trigger);
    // A bound script's owner hears of a failed trigger run by e-mail; an add-on's user never.
    if (rules.failureEmails && run.error && !google.addon) {
      google.failureEmails.push({to: trigger.owner, functionName: trigger.spec.functionName, error: run.error, at: run.at});
    }
    return run;
  };
  if (rules.freshGlobals) installFreshGlobals(harness);
  if (rules.recalculation) {
    installRecalculation(harness, rules);
  } else if (rules.simultaneous) {
    // The formulas a script wrote are calculated together once it ends, as Sheets does.
    harness.settle = () => {
      const seen = new Set();
      const cells = harness.spreadsheet.dirty.filter(({sheet, row, column}) => {
        const key = `${sheet.getSheetId()}:${row}:${column}`;
        if (seen.has(key) || !formulaCall(harness, sheet.cell(row, column))) return false;
        seen.add(key);
        return true;
      });
      harness.spreadsheet.dirty = [];
      runTogether(harness, rules, cells);
    };
    const recalculate = harness.recalculate.bind(harness);
    harness.recalculate = (sheetName) => {
      const cells = formulaCells(harness, harness.sheet(sheetName));
      return cells.length < 2 ? recalculate(sheetName) : runTogether(harness, rules, cells).filter(Boolean);
    };
  }
}

module.exports = {applyStrictness, resolveStrict, STRICT_DEFAULTS, runTogether, hasMethods};
