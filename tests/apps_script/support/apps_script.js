'use strict';
/**
 * Loads every apps_script/*.js file into ONE vm context, as Apps Script does (all
 * files share one global scope: each file's source is run into the same context, in
 * file-name order, and no file exports anything; test/layering.test.js checks that
 * nothing runs at a file's top level, so the order cannot matter), with fakes of the
 * Google services, and runs its
 * functions the ways Google runs them: as a custom function in a cell (30 s, no
 * authorization, read-only sheet), from the menu or google.script.run (6 min), or
 * from a time-driven trigger (6 min, no UI), or as the simple trigger onOpen (no
 * authorization). An execution that overruns its limit is killed and reported as
 * "Exceeded maximum execution time", whatever the code caught, because Apps Script
 * stops the script.
 *
 * Time is the harness's clock (real time plus what tests add with `advance`):
 * time-driven triggers fire on it, each as the user who created it, charged to that
 * user's daily trigger runtime; formulas a script writes are calculated when its
 * execution ends, as Sheets calculates a formula when it is entered.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const {SyncHttp} = require('./sync_http');
const {applyStrictness} = require('./strict_runtime');
const {FakeSpreadsheet, makeSpreadsheetApp, parseA1, columnLetters} = require('./fake_spreadsheet');
const {
  FakeCache, FakeProperties, FakeLock, LockRegistry, FakeScriptApp, TriggerRegistry, makeUtilities,
  makeSession, makeHtmlService, makeUrlFetchApp, QUOTA_EXCEEDED,
} = require('./fake_services');

const APPS_SCRIPT_DIR = path.resolve(__dirname, '..', '..', '..', 'apps_script');
// developers.google.com/apps-script/guides/services/quotas ("Current limitations"):
// custom functions 30 s, script runtime 6 min; guides/triggers (simple triggers): "They
// cannot run for longer than 30 seconds."
const LIMITS_MS = {custom: 30000, script: 360000, trigger: 360000, simple: 30000};
const EXCEEDED = 'Exceeded maximum execution time';
const DEFAULT_USER = 'person@example.com';

/** Copies a value out of the vm's realm (plain data only, as google.script.run does). */
function plain(value) {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value));
}

class AppsScript {
  /**
   * @param {Object} [options]
   * @param {Object<string, Array<Array<*>>>} [options.sheets] Sheet names to rows of values.
   * @param {Object<string, string>} [options.documentProperties]
   * @param {Object<string, string>} [options.scriptProperties]
   * @param {Object<string, Object<string, string>>} [options.userProperties] Per user email.
   * @param {?string} [options.identityToken] What ScriptApp.getIdentityToken() returns.
   * @param {string} [options.user] Who is at the keyboard (default person@example.com).
   * @param {string} [options.timeZone] The spreadsheet's time zone (File ▸ Settings).
   * @param {boolean} [options.addon] Installed as an Editor add-on (its trigger restrictions apply).
   * @param {string} [options.addonName] The add-on's name in its Marketplace listing (default Pronto enrichment).
   * @param {string} [options.account] 'consumer' (90 min of triggers a day) or 'workspace' (6 h).
   * @param {number} [options.fetchTimeoutMs] When UrlFetchApp gives up (about 60 s at Google;
   *     tests may shorten it to see what happens after, without waiting a minute).
   * @param {function(Object): void} [options.onFetch] Called after each UrlFetchApp.fetch (e.g. to move the clock).
   * @param {Object<string, number>} [options.waits] Shorter values for the script's waits, by
   *     constant name (e.g. {FORMULA_TIMEOUT_S: 2}): a test of "Pronto answers after the
   *     formula stopped waiting" then waits seconds, not the real 25. Each name must be a
   *     numeric `const` of the script, so a renamed constant fails the test instead of being
   *     silently ignored.
   */
  constructor(options = {}) {
    const harness = this;
    this.offsetMs = 0;
    this.clock = {
      now: () => Date.now() + harness.offsetMs,
      advance: (ms) => { harness.offsetMs += ms; },
      set: (ms) => { harness.offsetMs += Math.max(0, ms - (Date.now() + harness.offsetMs)); },
    };
    this.user = options.user || DEFAULT_USER;
    this.current = null;
    this.nextExecutionId = 1;
    this.fetches = [];
    this.executions = [];
    this.linked = null;
    const execution = () => this.current || {
      id: 0, kind: 'none', user: this.user, deadline: Infinity, kill() {}, checkTime() {},
    };
    this.http = new SyncHttp();
    this.manifest = JSON.parse(fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'appsscript.json'), 'utf8'));
    // An Editor add-on's menu is captioned with the name of its Marketplace listing (its
    // manifest has no section of its own: workspace/add-ons/concepts/editor-manifests).
    const addonName = options.addon ? options.addonName || 'Pronto enrichment' : null;

    this.spreadsheet = new FakeSpreadsheet({execution, timeZone: options.timeZone, addonName});
    const sheets = options.sheets || {Sheet1: []};
    Object.entries(sheets).forEach(([name, rows]) => this.spreadsheet.insertSheet(name).load(rows));
    this.documentCache = new FakeCache(this.clock.now);
    this.scriptCache = new FakeCache(this.clock.now);
    this.userCaches = new Map();
    this.documentProperties = new FakeProperties(options.documentProperties);
    this.scriptProperties = new FakeProperties(options.scriptProperties);
    this.userPropertiesByUser = new Map(Object.entries(options.userProperties || {})
        .map(([email, values]) => [email, new FakeProperties(values)]));
    this.locks = new LockRegistry(execution);
    this.triggerRegistry = new TriggerRegistry({
      clock: this.clock, addon: Boolean(options.addon), account: options.account || 'consumer',
      scriptTimeZone: this.manifest.timeZone,
    });
    this.scriptApp = new FakeScriptApp(execution, this.triggerRegistry, {
      identityToken: options.identityToken || null, documentId: this.spreadsheet.getId(),
    });
    const denyWithoutAuthorization = (service) => {
      const {kind, authMode} = execution();
      if (kind === 'simple' && authMode === 'NONE') {
        throw new Error(`Exception: You do not have permission to call ${service} (the add-on is not enabled in this document yet).`);
      }
    };

    const services = {
      SpreadsheetApp: makeSpreadsheetApp(this.spreadsheet),
      CacheService: {
        getDocumentCache: () => { denyWithoutAuthorization('CacheService'); return this.documentCache; },
        getScriptCache: () => { denyWithoutAuthorization('CacheService'); return this.scriptCache; },
        getUserCache: () => { denyWithoutAuthorization('CacheService'); return this.userCache(execution().user); },
      },
      PropertiesService: {
        getDocumentProperties: () => { denyWithoutAuthorization('PropertiesService'); return this.documentProperties; },
        getScriptProperties: () => { denyWithoutAuthorization('PropertiesService'); return this.scriptProperties; },
        getUserProperties: () => {
          denyWithoutAuthorization('PropertiesService');
          if (execution().kind === 'custom') {
            // guides/sheets/functions: a custom function cannot read the person's User
            // Properties (it runs without their authorization): never rely on them there.
            throw new Error('fake: a custom function cannot read the User Properties of the person using it.');
          }
          return this.userProperties(execution().user);
        },
      },
      LockService: {
        getDocumentLock: () => new FakeLock(this.locks, 'document'),
        getScriptLock: () => new FakeLock(this.locks, 'script'),
        getUserLock: () => new FakeLock(this.locks, `user:${execution().user}`),
      },
      ScriptApp: this.scriptApp,
      Utilities: makeUtilities(this.clock, execution),
      Session: makeSession(execution, this.manifest.timeZone),
      HtmlService: makeHtmlService(APPS_SCRIPT_DIR, (code, data, name) => this.evaluate(code, data, name)),
      UrlFetchApp: makeUrlFetchApp({
        http: this.http, manifest: this.manifest, execution, clock: this.clock,
        record: (entry) => this.fetches.push(entry),
        onFetch: (entry) => {
          // Linked: the spreadsheet is live; what the function wrote meanwhile is there.
          if (entry.url.startsWith(this.linkedFunctionUrl || '\u0000')) this.pullFromEmulator();
          if (options.onFetch) options.onFetch(entry);
        },
        beforeFetch: () => this.pushToEmulator(), timeoutMs: options.fetchTimeoutMs,
      }),
      Logger: {log: () => undefined},
      console: {log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined},
      __fakeNow: this.clock.now,
    };
    this.context = vm.createContext(services);
    // Date inside the script follows the harness clock, so tests can let time pass.
    vm.runInContext(`(() => {
      const RealDate = Date;
      const now = __fakeNow;
      function FakeDate(...args) {
        if (!new.target) return new RealDate(now()).toString();
        return args.length ? new RealDate(...args) : new RealDate(now());
      }
      FakeDate.now = () => now();
      FakeDate.parse = RealDate.parse;
      FakeDate.UTC = RealDate.UTC;
      FakeDate.prototype = RealDate.prototype;
      globalThis.Date = FakeDate;
    })();`, this.context);
    this.files = fs.readdirSync(APPS_SCRIPT_DIR).filter((name) => name.endsWith('.js')).sort();
    const waits = new Map(Object.entries(options.waits || {}));
    this.files.forEach((name) => {
      let source = fs.readFileSync(path.join(APPS_SCRIPT_DIR, name), 'utf8');
      for (const [constant, value] of waits) {
        const declaration = new RegExp(`^const ${constant} = [0-9.]+;$`, 'm');
        if (declaration.test(source)) {
          source = source.replace(declaration, `const ${constant} = ${Number(value)};`);
          waits.delete(constant);
        }
      }
      vm.runInContext(source, this.context, {filename: path.join(APPS_SCRIPT_DIR, name)});
    });
    if (waits.size) throw new Error(`fake Apps Script: no numeric const ${[...waits.keys()].join(', ')} to shorten`);
    // Google's limits the fakes enforce across executions (support/strict_runtime.js): options
    // `google`, `spreadsheetId`, `strict`, `nullDocumentLock`.
    applyStrictness(this, options);
  }

  userProperties(email) {
    if (!this.userPropertiesByUser.has(email)) this.userPropertiesByUser.set(email, new FakeProperties());
    return this.userPropertiesByUser.get(email);
  }

  userCache(email) {
    if (!this.userCaches.has(email)) this.userCaches.set(email, new FakeCache(this.clock.now));
    return this.userCaches.get(email);
  }

  /** Installable triggers of every user (what Google holds; each user sees only theirs). */
  get triggers() {
    return this.triggerRegistry.triggers;
  }

  /** Triggers `email` created. */
  triggersOf(email) {
    return this.triggerRegistry.ofUser(email);
  }

  /** Minutes of trigger runtime `email` used in the current 24-hour window. */
  triggerMinutesUsed(email) {
    return this.triggerRegistry.usedMs(email) / 60000;
  }

  /**
   * Runs a compiled template inside the script's global scope, as HtmlService
   * does: scriptlets see every global of the .js files, and the template's
   * properties as variables.
   */
  evaluate(code, data, name) {
    const escape = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    let fn;
    try {
      fn = vm.runInContext(`(function(__escape, __data) { with (__data) { ${code} } })`, this.context,
          {filename: `${name}.html (template)`});
    } catch (error) {
      throw new Error(`fake HtmlService: the scriptlets of ${name}.html are not valid JavaScript: ${error.message}`);
    }
    return fn(escape, data);
  }

  /** A global of the script (function or constant). */
  global(name) {
    return vm.runInContext(name, this.context);
  }

  /**
   * Runs a script function as Google would for `kind` ('custom', 'script', 'trigger'
   * or 'simple'), as `context.user` (default: the person at the keyboard).
   * @param {string} kind
   * @param {string} functionName
   * @param {Array<*>} [args]
   * @param {{user?: string, callingCell?: Object, authMode?: string}} [context]
   */
  execute(kind, functionName, args = [], context = {}) {
    const fn = this.context[functionName];
    if (typeof fn !== 'function') throw new Error(`no function ${functionName} in apps_script/`);
    if (this.current) throw new Error(`fake: ${functionName} started inside execution ${this.current.id}; Apps Script runs them apart`);
    const id = this.nextExecutionId++;
    const started = this.clock.now();
    const deadline = started + LIMITS_MS[kind];
    const execution = {
      id, kind, deadline, killed: false, user: context.user || this.user,
      callingCell: context.callingCell || null, authMode: context.authMode || (kind === 'custom' ? 'CUSTOM_FUNCTION' : 'FULL'),
      kill() { this.killed = true; },
      checkTime: () => {
        if (this.clock.now() > deadline) {
          execution.killed = true;
          throw new Error(EXCEEDED);
        }
      },
    };
    const startedReal = Date.now();
    if (kind !== 'custom') this.pullFromEmulator();
    this.current = execution;
    let value;
    let error = null;
    try {
      value = fn(...args);
    } catch (thrown) {
      error = thrown && thrown.message !== undefined ? thrown.message : String(thrown);
    } finally {
      this.current = null;
      this.locks.releaseAll(id);
    }
    if (this.clock.now() > deadline) execution.killed = true;
    const record = {
      id, kind, functionName, user: execution.user, started, ms: this.clock.now() - started,
      realMs: Date.now() - startedReal, killed: execution.killed,
    };
    this.executions.push(record);
    if (kind !== 'custom') {
      this.pushToEmulator();
      this.settle();
    }
    if (execution.killed) return {value: undefined, error: EXCEEDED, killed: true, ms: record.ms};
    return {value: plain(value), error, killed: false, ms: record.ms};
  }

  /** Runs a function from the menu or google.script.run; throws its error. */
  call(functionName, ...args) {
    const result = this.execute('script', functionName, args);
    if (result.error) throw new Error(result.error);
    return result.value;
  }

  /** The same, as another person (an editor of the same spreadsheet). */
  callAs(user, functionName, ...args) {
    const result = this.execute('script', functionName, args, {user});
    if (result.error) throw new Error(result.error);
    return result.value;
  }

  /**
   * Opens the spreadsheet: Sheets runs the simple trigger onOpen(e) in `authMode`
   * (LIMITED for a bound script; NONE for an add-on not yet used in this document).
   */
  open(authMode = 'LIMITED', user = this.user) {
    return this.execute('simple', 'onOpen', [{authMode, source: {}, user: {}}], {user, authMode});
  }

  /** Installs the add-on for `user` in this document: Apps Script runs onInstall(e) with full authorization. */
  install(user = this.user) {
    return this.execute('script', 'onInstall', [{authMode: 'FULL'}], {user});
  }

  /** Runs one trigger now, as its owner, charging its runtime to the owner's daily quota. */
  fireTrigger(trigger) {
    const now = this.clock.now();
    trigger.runs++;
    if (!this.triggerRegistry.allows(trigger.owner, now)) {
      const refused = {trigger: trigger.id, owner: trigger.owner, at: now, value: undefined, error: QUOTA_EXCEEDED, killed: false, ms: 0};
      this.executions.push({kind: 'trigger', functionName: trigger.spec.functionName, user: trigger.owner, started: now, ms: 0, refused: true});
      return refused;
    }
    const result = this.execute('trigger', trigger.spec.functionName, [{authMode: 'FULL', triggerUid: trigger.id}], {user: trigger.owner});
    this.triggerRegistry.charge(trigger.owner, now, result.ms);
    return {trigger: trigger.id, owner: trigger.owner, at: now, ...result};
  }

  /**
   * Lets `ms` pass on the clock, firing every time-driven trigger that falls due, in
   * order, each at its time (nothing waits in real time).
   * @return {Array<Object>} What each trigger run did.
   */
  advance(ms) {
    const target = this.clock.now() + ms;
    const runs = [];
    for (let guard = 0; guard < 100000; guard++) {
      const due = this.triggerRegistry.nextDue(target);
      if (!due) break;
      this.clock.set(due.nextAt);
      due.nextAt = this.triggerRegistry.after(due, Math.max(due.nextAt, this.clock.now() - 1));
      runs.push(this.fireTrigger(due));
    }
    this.clock.set(target);
    return runs;
  }

  /** Runs every installed time-driven trigger once, now, as the clock would. */
  fireTimeTriggers() {
    return this.triggerRegistry.triggers.slice().map((trigger) => this.fireTrigger(trigger));
  }

  /**
   * Calculates the formulas scripts wrote, as Sheets does once the script has
   * returned: each runs as a custom function in its own cell (see recalculateCell).
   */
  settle() {
    for (let guard = 0; guard < 10000 && this.spreadsheet.dirty.length; guard++) {
      const {sheet, row, column} = this.spreadsheet.dirty.shift();
      const cell = sheet.cell(row, column);
      if (cell && cell.f) this.recalculateCell(sheet, row, column);
    }
  }

  /**
   * Mirrors a spreadsheet of the Sheets emulator: the same spreadsheet seen from Apps
   * Script. Each execution starts from the emulator's cells (what the function wrote
   * meanwhile), and what a script writes is copied back before its next request to
   * the function and when it ends.
   * @param {string} emulatorUrl The emulator's base URL.
   * @param {string} functionUrl The function's URL (its answers may follow writes it made).
   */
  linkToEmulator(emulatorUrl, functionUrl) {
    this.linked = {url: emulatorUrl};
    this.linkedFunctionUrl = functionUrl;
    this.pullFromEmulator();
  }

  pullFromEmulator() {
    if (!this.linked) return;
    this.spreadsheet.sheets.forEach((sheet) => {
      const url = `${this.linked.url}/_emulator/spreadsheets/${encodeURIComponent(this.spreadsheet.getId())}/cells?sheet=${encodeURIComponent(sheet.getName())}`;
      const answer = this.http.request({url, method: 'GET', headers: {}}, 10000);
      if (answer.status !== 200) throw new Error(`fake: the Sheets emulator answered ${answer.status || answer.error} for ${url}`);
      const cells = JSON.parse(answer.body.toString('utf8'));
      sheet.rows = cells.rows.map((line) => line.map((value) => ({v: value})));
      sheet.maxRows = cells.rowCount;
      sheet.maxColumns = cells.columnCount;
    });
    this.spreadsheet.written = false;
  }

  pushToEmulator() {
    if (!this.linked || !this.spreadsheet.written) return;
    const url = `${this.linked.url}/_emulator/spreadsheets/${encodeURIComponent(this.spreadsheet.getId())}`;
    const summary = this.http.request({url, method: 'GET', headers: {}}, 10000);
    const shared = JSON.parse(summary.body.toString('utf8')).shared;
    const body = JSON.stringify({
      spreadsheetId: this.spreadsheet.getId(), shared, valueInputOption: 'RAW',
      sheets: this.spreadsheet.sheets.map((sheet) => ({
        title: sheet.getName(), rowCount: sheet.maxRows, columnCount: sheet.maxColumns, rows: sheet.dump(),
      })),
    });
    const answer = this.http.request({url: `${this.linked.url}/_emulator/spreadsheets`, method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: Buffer.from(body)}, 10000);
    if (answer.status !== 201) throw new Error(`fake: the Sheets emulator refused the copy: ${answer.status}`);
    this.spreadsheet.written = false;
  }

  sheet(name) {
    return this.spreadsheet.getSheetByName(name);
  }

  /** Selects a range, as a person would before opening the sidebar. */
  select(sheetName, a1) {
    const sheet = this.sheet(sheetName);
    this.spreadsheet.setActiveSheet(sheet);
    sheet.setActiveSelection(a1);
  }

  /** Types a formula into a cell (as a person would). */
  typeFormula(sheetName, a1, formula) {
    const {row, column} = parseA1(a1);
    const sheet = this.sheet(sheetName);
    sheet.put(row, column, {v: '', f: formula});
  }

  /**
   * Recalculates every PRONTO_* formula of a sheet as Sheets does on open: each
   * cell's arguments become values (a single cell) or 2-D arrays (a range), the
   * function runs as a custom function in that cell, and an array answer spills down
   * and right.
   * @return {Array<{cell: string, value: *, error: ?string, killed: boolean, realMs: number}>}
   */
  recalculate(sheetName) {
    const sheet = this.sheet(sheetName);
    const anchors = [];
    sheet.rows.forEach((line, r) => (line || []).forEach((cell, c) => {
      if (cell && cell.f) anchors.push([r + 1, c + 1]);
    }));
    return anchors.map(([row, column]) => this.recalculateCell(sheet, row, column)).filter(Boolean);
  }

  /** Calculates the formula at (row, column): a custom function run in that cell. */
  recalculateCell(sheet, row, column) {
    const cell = sheet.cell(row, column);
    const match = cell && cell.f && /^=\s*([A-Z_]+)\s*\((.*)\)\s*$/i.exec(cell.f);
    if (!match) return null;
    const args = this.formulaArguments(sheet, match[2]);
    const started = Date.now();
    const result = this.execute('custom', match[1].toUpperCase(), args, {callingCell: {sheet, row, column}});
    const realMs = Date.now() - started;
    const anchor = `${columnLetters(column)}${row}`;
    sheet.clearSpill(row, column);
    if (result.error) {
      sheet.put(row, column, {v: '#ERROR!', f: cell.f, error: result.error});
    } else if (Array.isArray(result.value)) {
      result.value.forEach((valuesRow, dr) => valuesRow.forEach((value, dc) => {
        sheet.put(row + dr, column + dc, dr === 0 && dc === 0 ?
          {v: value, f: cell.f, spill: {rows: result.value.length, columns: valuesRow.length}} : {v: value});
      }));
    } else {
      sheet.put(row, column, {v: result.value, f: cell.f});
    }
    return {cell: anchor, value: result.value, error: result.error, killed: result.killed, realMs};
  }

  formulaArguments(sheet, text) {
    const parts = [];
    let depth = 0;
    let quoted = false;
    let current = '';
    for (const ch of text) {
      if (ch === '"') quoted = !quoted;
      if (!quoted && ch === '(') depth++;
      if (!quoted && ch === ')') depth--;
      if (!quoted && depth === 0 && ch === ',') {
        parts.push(current);
        current = '';
      } else {
        current += ch;
      }
    }
    parts.push(current);
    return parts.map((part) => part.trim()).map((part) => {
      if (part === '') return undefined;
      if (/^".*"$/.test(part)) return part.slice(1, -1).replace(/""/g, '"');
      if (/^-?\d+(\.\d+)?$/.test(part)) return Number(part);
      const a1 = parseA1(part);
      const lastRow = a1.lastRow === null ? sheet.getLastRow() : a1.lastRow;
      const values = sheet.getRange(a1.row, a1.column, lastRow - a1.row + 1,
          a1.lastColumn - a1.column + 1).map((cell) => (cell ? cell.v : ''));
      return values.length === 1 && values[0].length === 1 ? values[0][0] : values;
    });
  }

  /** The /enrich requests that looked someone up (not the settings checks, which send no contact). */
  enrichRequests() {
    return this.fetches.filter((entry) => entry.url.endsWith('/enrich') && JSON.parse(entry.payload).contacts.length);
  }

  /** The free settings checks: POST /enrich with no contact. */
  connectionChecks() {
    return this.fetches.filter((entry) => entry.url.endsWith('/enrich') && !JSON.parse(entry.payload).contacts.length);
  }

  close() {
    return this.http.close();
  }
}

module.exports = {AppsScript, APPS_SCRIPT_DIR, EXCEEDED, DEFAULT_USER};
