'use strict';
/**
 * Loads every apps_script/*.js file into ONE vm context, as Apps Script does (all
 * files share one global scope), with fakes of the Google services, and runs its
 * functions the ways Google runs them: as a custom function in a cell (30 s, no
 * authorization, read-only sheet), from the menu or google.script.run (6 min), or
 * from a time-driven trigger (6 min, no UI). An execution that overruns its limit
 * is killed and reported as "Exceeded maximum execution time", whatever the code
 * caught, because Apps Script stops the script.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const {SyncHttp} = require('./sync_http');
const {FakeSpreadsheet, makeSpreadsheetApp, parseA1} = require('./fake_spreadsheet');
const {
  FakeCache, FakeProperties, FakeLock, LockRegistry, FakeScriptApp, makeUtilities, makeSession,
  makeHtmlService, makeUrlFetchApp,
} = require('./fake_services');

const APPS_SCRIPT_DIR = path.resolve(__dirname, '..', '..', '..', 'apps_script');
const LIMITS_MS = {custom: 30000, script: 360000, trigger: 360000};
const EXCEEDED = 'Exceeded maximum execution time';

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
   * @param {?string} [options.identityToken] What ScriptApp.getIdentityToken() returns.
   * @param {function(Object): void} [options.onFetch] Called after each UrlFetchApp.fetch (e.g. to move the clock).
   */
  constructor(options = {}) {
    const harness = this;
    this.offsetMs = 0;
    this.clock = {
      now: () => Date.now() + harness.offsetMs,
      advance: (ms) => { harness.offsetMs += ms; },
    };
    this.current = null;
    this.nextExecutionId = 1;
    this.fetches = [];
    this.executions = [];
    const execution = () => this.current || {
      id: 0, kind: 'none', deadline: Infinity, kill() {}, checkTime() {},
    };
    this.http = new SyncHttp();
    this.manifest = JSON.parse(fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'appsscript.json'), 'utf8'));

    this.spreadsheet = new FakeSpreadsheet({execution});
    const sheets = options.sheets || {Sheet1: []};
    Object.entries(sheets).forEach(([name, rows]) => this.spreadsheet.insertSheet(name).load(rows));
    this.documentCache = new FakeCache(this.clock.now);
    this.scriptCache = new FakeCache(this.clock.now);
    this.userCache = new FakeCache(this.clock.now);
    this.documentProperties = new FakeProperties(options.documentProperties);
    this.scriptProperties = new FakeProperties(options.scriptProperties);
    this.userProperties = new FakeProperties();
    this.locks = new LockRegistry(execution);
    this.scriptApp = new FakeScriptApp(execution, {identityToken: options.identityToken || null});

    const services = {
      SpreadsheetApp: makeSpreadsheetApp(this.spreadsheet),
      CacheService: {
        getDocumentCache: () => this.documentCache,
        getScriptCache: () => this.scriptCache,
        getUserCache: () => this.userCache,
      },
      PropertiesService: {
        getDocumentProperties: () => this.documentProperties,
        getScriptProperties: () => this.scriptProperties,
        getUserProperties: () => this.userProperties,
      },
      LockService: {
        getDocumentLock: () => new FakeLock(this.locks, 'document'),
        getScriptLock: () => new FakeLock(this.locks, 'script'),
        getUserLock: () => new FakeLock(this.locks, 'user'),
      },
      ScriptApp: this.scriptApp,
      Utilities: makeUtilities(this.clock, execution),
      Session: makeSession('person@example.com'),
      HtmlService: makeHtmlService(APPS_SCRIPT_DIR, (code, data, name) => this.evaluate(code, data, name)),
      UrlFetchApp: makeUrlFetchApp({
        http: this.http, manifest: this.manifest, execution, clock: this.clock,
        record: (entry) => this.fetches.push(entry), onFetch: options.onFetch,
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
    this.files.forEach((name) => {
      vm.runInContext(fs.readFileSync(path.join(APPS_SCRIPT_DIR, name), 'utf8'), this.context,
          {filename: path.join(APPS_SCRIPT_DIR, name)});
    });
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

  /** Runs a script function as Google would for `kind` ('custom', 'script' or 'trigger'). */
  execute(kind, functionName, args = []) {
    const fn = this.context[functionName];
    if (typeof fn !== 'function') throw new Error(`no function ${functionName} in apps_script/`);
    const id = this.nextExecutionId++;
    const deadline = this.clock.now() + LIMITS_MS[kind];
    const execution = {
      id, kind, deadline, killed: false,
      kill() { this.killed = true; },
      checkTime: () => {
        if (this.clock.now() > deadline) {
          execution.killed = true;
          throw new Error(EXCEEDED);
        }
      },
    };
    const startedReal = Date.now();
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
    const record = {id, kind, functionName, realMs: Date.now() - startedReal, killed: execution.killed};
    this.executions.push(record);
    if (execution.killed) return {value: undefined, error: EXCEEDED, killed: true};
    return {value: plain(value), error, killed: false};
  }

  /** Runs a function from the menu or google.script.run; throws its error. */
  call(functionName, ...args) {
    const result = this.execute('script', functionName, args);
    if (result.error) throw new Error(result.error);
    return result.value;
  }

  /** Runs every installed time-driven trigger once, as the clock would. */
  fireTimeTriggers() {
    return this.scriptApp.triggers.map((trigger) => this.execute('trigger', trigger.getHandlerFunction(),
        [{authMode: 'FULL', triggerUid: trigger.getUniqueId()}]));
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
   * Recalculates every PRONTO_* formula of a sheet as Sheets does: each cell's
   * arguments become values (a single cell) or 2-D arrays (a range), the function
   * runs as a custom function, and an array answer spills down and right.
   * @return {Array<{cell: string, value: *, error: ?string, killed: boolean, realMs: number}>}
   */
  recalculate(sheetName) {
    const sheet = this.sheet(sheetName);
    const outcomes = [];
    sheet.rows.forEach((line, r) => (line || []).forEach((cell, c) => {
      const match = cell && cell.f && /^=\s*([A-Z_]+)\s*\((.*)\)\s*$/i.exec(cell.f);
      if (!match) return;
      const args = this.formulaArguments(sheet, match[2]);
      const started = Date.now();
      const result = this.execute('custom', match[1].toUpperCase(), args);
      const realMs = Date.now() - started;
      const anchor = `${String.fromCharCode(65 + c)}${r + 1}`;
      if (result.error) {
        sheet.put(r + 1, c + 1, {v: '#ERROR!', f: cell.f, error: result.error});
      } else if (Array.isArray(result.value)) {
        result.value.forEach((valuesRow, dr) => valuesRow.forEach((value, dc) => {
          sheet.put(r + 1 + dr, c + 1 + dc, dr === 0 && dc === 0 ? {v: value, f: cell.f} : {v: value});
        }));
      } else {
        sheet.put(r + 1, c + 1, {v: result.value, f: cell.f});
      }
      outcomes.push({cell: anchor, value: result.value, error: result.error, killed: result.killed, realMs});
    }));
    return outcomes;
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

  /** The /enrich requests the script sent. */
  enrichRequests() {
    return this.fetches.filter((entry) => entry.url.endsWith('/enrich'));
  }

  close() {
    return this.http.close();
  }
}

module.exports = {AppsScript, APPS_SCRIPT_DIR, EXCEEDED};
