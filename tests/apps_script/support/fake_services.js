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

const MAX_KEY = 250;
const MAX_VALUE_BYTES = 100 * 1024;
const MAX_EXPIRY_S = 21600;
const MAX_ITEMS = 1000;
const KEPT_WHEN_FULL = 900;
const URL_FETCH_TIMEOUT_MS = 60000;

class FakeCache {
  constructor(now) {
    this.now = now;
    this.items = new Map();
    this.counters = {gets: 0, puts: 0};
  }

  live(key) {
    const item = this.items.get(key);
    if (!item) return null;
    if (item.expiresAt <= this.now()) {
      this.items.delete(key);
      return null;
    }
    return item;
  }

  checkKey(key) {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) {
      throw new Error(`Exception: Argument too large: key (${String(key).length} characters; at most ${MAX_KEY})`);
    }
  }

  get(key) {
    this.checkKey(key);
    this.counters.gets++;
    const item = this.live(key);
    return item ? item.value : null;
  }

  getAll(keys) {
    const out = {};
    keys.forEach((key) => {
      this.checkKey(key);
      const item = this.live(key);
      if (item) out[key] = item.value;
    });
    this.counters.gets++;
    return out;
  }

  put(key, value, expirationInSeconds = 600) {
    this.putAll({[key]: value}, expirationInSeconds);
  }

  putAll(values, expirationInSeconds = 600) {
    if (expirationInSeconds > MAX_EXPIRY_S || expirationInSeconds < 1) {
      throw new Error(`Exception: Invalid argument: expirationInSeconds (${expirationInSeconds}; at most ${MAX_EXPIRY_S})`);
    }
    Object.keys(values).forEach((key) => {
      this.checkKey(key);
      const value = String(values[key]);
      if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) {
        throw new Error('Exception: Argument too large: value');
      }
      this.items.set(key, {value, expiresAt: this.now() + expirationInSeconds * 1000});
    });
    this.counters.puts++;
    if (this.items.size > MAX_ITEMS) {
      // Documented: past the cap the cache keeps the 900 items farthest from expiration.
      const kept = [...this.items.entries()].sort((a, b) => b[1].expiresAt - a[1].expiresAt).slice(0, KEPT_WHEN_FULL);
      this.items = new Map(kept);
    }
  }

  remove(key) { this.items.delete(key); }
  removeAll(keys) { keys.forEach((key) => this.items.delete(key)); }
}

class FakeProperties {
  constructor(initial = {}) {
    this.values = new Map(Object.entries(initial));
  }
  getProperty(key) { return this.values.has(key) ? this.values.get(key) : null; }
  setProperty(key, value) {
    const text = String(value);
    if (Buffer.byteLength(text, 'utf8') > 9 * 1024) throw new Error('Exception: Argument too large: value');
    this.values.set(key, text);
    return this;
  }
  deleteProperty(key) { this.values.delete(key); return this; }
  getProperties() { return Object.fromEntries(this.values); }
  setProperties(properties, deleteAllOthers) {
    if (deleteAllOthers) this.values.clear();
    Object.entries(properties).forEach(([key, value]) => this.setProperty(key, value));
    return this;
  }
  getKeys() { return [...this.values.keys()]; }
  deleteAllProperties() { this.values.clear(); return this; }
}

class FakeLock {
  constructor(registry, name) {
    this.registry = registry;
    this.name = name;
  }
  holder() { return this.registry.holders.get(this.name); }
  hasLock() { return this.holder() === this.registry.execution().id; }
  tryLock() {
    const holder = this.holder();
    const me = this.registry.execution().id;
    if (holder !== undefined && holder !== me) return false;
    this.registry.holders.set(this.name, me);
    return true;
  }
  waitLock(timeoutInMillis) {
    if (!this.tryLock(timeoutInMillis)) {
      throw new Error('Exception: Lock timeout: another process was holding the lock for too long.');
    }
  }
  releaseLock() {
    if (this.hasLock()) this.registry.holders.delete(this.name);
  }
}

class LockRegistry {
  constructor(execution) {
    this.execution = execution;
    this.holders = new Map();
  }
  /** Releases what an execution still holds, as Apps Script does when a script ends. */
  releaseAll(executionId) {
    for (const [name, holder] of this.holders) if (holder === executionId) this.holders.delete(name);
  }
}

const EventType = Object.freeze({CLOCK: 'CLOCK', ON_OPEN: 'ON_OPEN', ON_EDIT: 'ON_EDIT', ON_FORM_SUBMIT: 'ON_FORM_SUBMIT', ON_CHANGE: 'ON_CHANGE'});
const VALID_HOURS = [1, 2, 4, 6, 8, 12];

class FakeScriptApp {
  constructor(execution, {identityToken = null} = {}) {
    this.execution = execution;
    this.identityToken = identityToken;
    this.triggers = [];
    this.nextTriggerId = 1;
    this.EventType = EventType;
    this.TriggerSource = Object.freeze({SPREADSHEETS: 'SPREADSHEETS', CLOCK: 'CLOCK', FORMS: 'FORMS', DOCUMENTS: 'DOCUMENTS', CALENDAR: 'CALENDAR'});
    this.AuthMode = Object.freeze({NONE: 'NONE', CUSTOM_FUNCTION: 'CUSTOM_FUNCTION', LIMITED: 'LIMITED', FULL: 'FULL'});
    this.WeekDay = Object.freeze({MONDAY: 'MONDAY'});
  }

  checkAuthorized(what) {
    if (this.execution().kind === 'custom') {
      throw new Error(`Exception: You do not have permission to call ScriptApp.${what}`);
    }
  }

  newTrigger(functionName) {
    this.checkAuthorized('newTrigger');
    const app = this;
    const spec = {functionName, kind: null, everyHours: null, everyDays: null, atHour: null, everyMinutes: null};
    const clock = {
      everyHours(n) {
        if (!VALID_HOURS.includes(n)) throw new Error('Exception: Invalid argument: hours. Should be one of: 1, 2, 4, 6, 8 or 12');
        spec.everyHours = n;
        return clock;
      },
      everyDays(n) { spec.everyDays = n; return clock; },
      everyMinutes(n) {
        if (![1, 5, 10, 15, 30].includes(n)) throw new Error('Exception: Invalid argument: minutes');
        spec.everyMinutes = n;
        return clock;
      },
      atHour(hour) { spec.atHour = hour; return clock; },
      nearMinute() { return clock; },
      inTimezone() { return clock; },
      create() {
        if (!spec.everyHours && !spec.everyDays && !spec.everyMinutes) {
          throw new Error('Exception: Trigger has no schedule: call everyHours, everyDays or everyMinutes.');
        }
        if (spec.atHour !== null && !spec.everyDays) {
          throw new Error('Exception: atHour only applies to daily or weekly triggers.');
        }
        const trigger = app.makeTrigger({...spec, kind: 'clock'});
        app.triggers.push(trigger);
        return trigger;
      },
    };
    return {
      timeBased() { return clock; },
      forSpreadsheet() { throw new Error('fake: spreadsheet triggers are not modelled'); },
    };
  }

  makeTrigger(spec) {
    const id = String(this.nextTriggerId++);
    return {
      spec,
      getUniqueId: () => id,
      getHandlerFunction: () => spec.functionName,
      getEventType: () => EventType.CLOCK,
      getTriggerSource: () => this.TriggerSource.CLOCK,
      getTriggerSourceId: () => null,
    };
  }

  getProjectTriggers() {
    this.checkAuthorized('getProjectTriggers');
    return this.triggers.slice();
  }

  deleteTrigger(trigger) {
    this.checkAuthorized('deleteTrigger');
    const id = trigger.getUniqueId();
    this.triggers = this.triggers.filter((t) => t.getUniqueId() !== id);
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
  };
}

function makeSession(email) {
  const user = {getEmail: () => email};
  return {
    getActiveUser: () => user,
    getEffectiveUser: () => user,
    getScriptTimeZone: () => 'Etc/UTC',
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
function makeUrlFetchApp({http, manifest, execution, clock, record, onFetch}) {
  const whitelist = manifest.urlFetchWhitelist || [];
  return {
    fetch(url, params = {}) {
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
      const limit = execution().deadline - clock.now();
      const wait = Math.min(URL_FETCH_TIMEOUT_MS, Math.max(limit, 0));
      const answer = http.request({url, method, headers, body}, wait);
      if (onFetch) onFetch(entry);
      execution().checkTime();
      if (answer.timedOut) {
        if (wait >= limit) execution().kill();
        entry.status = 'timeout';
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
  FakeCache, FakeProperties, FakeLock, LockRegistry, FakeScriptApp, makeUtilities, makeSession,
  makeHtmlService, compileTemplate, makeUrlFetchApp, allowedByManifest, MAX_ITEMS,
};
