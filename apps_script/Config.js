/**
 * Configuration: where the Pronto function is and the token it accepts, and the
 * Settings dialog's server side.
 *
 * The URL comes from this spreadsheet's Document Properties, else from Script
 * Properties (set once by an admin in the script editor). The token, first found wins:
 *   1. the person's own token, in their User Properties: only their own executions
 *      read it (sidebar, menu, dialogs and the triggers they created);
 *   2. the spreadsheet's shared token, in Document Properties: every editor's
 *      scripts can read it, and formulas use it;
 *   3. an admin's token, in Script Properties.
 * Formulas never read User Properties: a custom function runs without the
 * person's authorization (developers.google.com/apps-script/guides/sheets/functions).
 */

/** Property holding the function's base URL (the code appends /enrich, /fill, /healthz). */
const URL_PROPERTY = 'PRONTO_FUNCTION_URL';
/** Property holding a secret the function accepts as a Bearer token (PRONTO_SHEETS_TOKENS). */
const TOKEN_PROPERTY = 'PRONTO_FUNCTION_TOKEN';
/**
 * appsscript.json's urlFetchWhitelist, repeated here because a script cannot read its
 * manifest (a test keeps the two equal). UrlFetchApp refuses any other URL
 * (developers.google.com/apps-script/manifest/allowlist-url).
 */
const ALLOWED_URL_PREFIXES = ['https://*.cloudfunctions.net/', 'https://*.run.app/'];
/** Where the token is kept, by the name the dialog uses. */
const TOKEN_SCOPES = ['personal', 'shared'];
/** Document cache key of the credits per type the function last reported. */
const COSTS_CACHE_KEY = 'pronto-costs';
/** Seconds the reported costs are kept. */
const COSTS_CACHE_SECONDS = 3600;

/**
 * The connection settings in force.
 * @typedef {Object} ProntoConfig
 * @property {string} url The function's base URL without a trailing slash ('' when unset).
 * @property {string} token The token ('' when unset).
 * @property {string} tokenSource 'personal', 'shared', 'admin', 'typed' or ''.
 */

/**
 * What the Settings dialog shows: never a token itself.
 * @typedef {Object} SettingsView
 * @property {string} url The function URL ('' when unset).
 * @property {string} urlSource 'document', 'script' or '' (where the URL comes from).
 * @property {{personal: boolean, shared: boolean, admin: boolean}} tokens Which tokens are set.
 * @property {string} tokenInUse The token the sidebar and menu use: 'personal', 'shared', 'admin' or ''.
 * @property {string} formulasToken The token formulas use: 'shared', 'admin' or ''.
 * @property {string} me The person's email ('' when Google does not say).
 */

/**
 * The result of checking the settings with a call that spends nothing.
 * @typedef {Object} ConnectionCheck
 * @property {boolean} ok Whether the function accepted the URL and token.
 * @property {string} message What worked, or what to fix.
 * @property {string} fix 'settings' when the fix is in Pronto ▸ Settings, else ''.
 * @property {?number} creditsSpentToday The function's count of credits spent today.
 * @property {?number} creditBudget The function's daily credit budget.
 * @property {Object<string, number>} costs Credits per answer found, by type id.
 */

/**
 * Reads a property from the stores given, in order.
 * @param {string} name The property name.
 * @param {boolean} personal Whether the person's User Properties come first.
 * @return {{value: string, source: string}} The value ('' when unset) and where it came from.
 */
function readProperty_(name, personal) {
  const stores = [];
  if (personal) {
    stores.push({source: 'personal', get: function() {
      return PropertiesService.getUserProperties();
    }});
  }
  stores.push({source: 'shared', get: function() {
    return PropertiesService.getDocumentProperties();
  }});
  stores.push({source: 'admin', get: function() {
    return PropertiesService.getScriptProperties();
  }});
  for (let i = 0; i < stores.length; i++) {
    let value = null;
    try {
      const store = stores[i].get();
      value = store ? store.getProperty(name) : null;
    } catch {
      value = null; // User Properties are out of reach here (an add-on not yet enabled).
    }
    if (value && value.trim()) {
      return {value: value.trim(), source: stores[i].source};
    }
  }
  return {value: '', source: ''};
}

/**
 * The connection settings in force.
 * @param {{personal?: boolean}} [options] personal: false for formulas (no User Properties).
 * @return {ProntoConfig} The URL and token.
 */
function getConfig_(options) {
  const personal = !options || options.personal !== false;
  const token = readProperty_(TOKEN_PROPERTY, personal);
  return {
    url: normaliseFunctionUrl_(readProperty_(URL_PROPERTY, false).value),
    token: token.value,
    tokenSource: token.source,
  };
}

/**
 * Cleans a function URL as pasted: trims it, drops a trailing slash and a
 * trailing /enrich, /fill or /healthz (people paste the URL they tried).
 * @param {string} url The URL.
 * @return {string} The base URL.
 */
function normaliseFunctionUrl_(url) {
  return (url || '').trim().replace(/\/+$/, '').replace(/\/(enrich|fill|healthz)$/, '');
}

/**
 * Whether UrlFetchApp may call this URL: it matches the manifest's allowlist
 * ("https://*.run.app/" style prefixes), or is this machine (local tests only).
 * @param {string} url A full URL.
 * @return {boolean} True when allowed.
 */
function urlAllowed_(url) {
  if (/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url)) {
    return true;
  }
  const parsed = /^https:\/\/([^/?#]+)(\/[^?#]*)?/.exec(url);
  return ALLOWED_URL_PREFIXES.some(function(prefix) {
    const wildcard = /^https:\/\/\*\.([^/]+)(\/.*)$/.exec(prefix);
    if (!wildcard) {
      return url.indexOf(prefix) === 0;
    }
    return parsed !== null && parsed[1].toLowerCase().endsWith('.' + wildcard[1]) &&
        ((parsed[2] || '/') + '/').indexOf(wildcard[2]) === 0;
  });
}

/**
 * Checks a function URL before anything is sent to it.
 * @param {string} url The base URL.
 * @return {string} '' when usable, otherwise a sentence saying what to fix.
 */
function functionUrlProblem_(url) {
  if (!url) {
    return 'Paste the function URL (it starts with https://).';
  }
  if (!/^https:\/\/[^\s/]+/.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url)) {
    return 'The function URL must start with https:// — copy it from the deployment ' +
        'output (for example https://europe-west1-my-project.cloudfunctions.net/pronto).';
  }
  return '';
}

/**
 * What to say when UrlFetchApp refuses a URL: the manifest's urlFetchWhitelist does
 * not allow it. Not checked before calling: deploy.sh may add the function's own
 * address to the manifest it pushes, which ALLOWED_URL_PREFIXES cannot know.
 * @param {string} url The base URL.
 * @return {string} The sentence.
 */
function allowlistProblem_(url) {
  return 'The add-in may only call addresses its manifest allows (' +
      ALLOWED_URL_PREFIXES.join(' and ') + ', the urlFetchWhitelist of appsscript.json), ' +
      'and ' + url + ' is not one of them. Use the URL deploy.sh printed, or ask your ' +
      'admin to add this address to urlFetchWhitelist.';
}

/**
 * The email of the person running this code ('' when Google does not say).
 * @return {string} The email.
 */
function currentUserEmail_() {
  try {
    return Session.getEffectiveUser().getEmail() || '';
  } catch {
    return '';
  }
}

/**
 * Settings dialog: what is configured now, without revealing any token.
 * @return {SettingsView} The view.
 */
function getSettings() {
  const url = readProperty_(URL_PROPERTY, false);
  /**
   * @param {function(): ?GoogleAppsScript.Properties.Properties} get The store.
   * @return {boolean} Whether it holds a token.
   */
  function has(get) {
    try {
      const store = get();
      return Boolean(store && (store.getProperty(TOKEN_PROPERTY) || '').trim());
    } catch {
      return false;
    }
  }
  const tokens = {
    personal: has(function() {
      return PropertiesService.getUserProperties();
    }),
    shared: has(function() {
      return PropertiesService.getDocumentProperties();
    }),
    admin: has(function() {
      return PropertiesService.getScriptProperties();
    }),
  };
  return {
    url: normaliseFunctionUrl_(url.value),
    urlSource: url.source === 'shared' ? 'document' : url.source === 'admin' ? 'script' : '',
    tokens: tokens,
    tokenInUse: tokens.personal ? 'personal' : tokens.shared ? 'shared' : tokens.admin ? 'admin' : '',
    formulasToken: tokens.shared ? 'shared' : tokens.admin ? 'admin' : '',
    me: currentUserEmail_(),
  };
}

/**
 * Settings dialog "Save": the URL for this spreadsheet and, when one is typed, the
 * token, either for the person only (User Properties) or shared with every editor
 * of this spreadsheet (Document Properties).
 * @param {{url: string, token?: string, tokenScope?: string}} settings What the person typed.
 * @return {SettingsView} The settings now in force.
 */
function saveSettings(settings) {
  const url = normaliseFunctionUrl_(settings && settings.url);
  const problem = functionUrlProblem_(url);
  if (problem) {
    throw new Error(problem);
  }
  const token = ((settings && settings.token) || '').trim();
  const scope = (settings && settings.tokenScope) || 'shared';
  if (TOKEN_SCOPES.indexOf(scope) === -1) {
    throw new Error('Choose who the token is for: only you, or everyone using this spreadsheet.');
  }
  PropertiesService.getDocumentProperties().setProperty(URL_PROPERTY, url);
  if (token) {
    tokenStore_(scope).setProperty(TOKEN_PROPERTY, token);
  }
  ensureTimerQuietly_();
  return getSettings();
}

/**
 * Settings dialog "Clear": forgets the person's own token or the spreadsheet's shared one.
 * @param {string} scope 'personal' or 'shared'.
 * @return {SettingsView} The settings now in force.
 */
function clearToken(scope) {
  if (TOKEN_SCOPES.indexOf(scope) === -1) {
    throw new Error('Say which token to clear: yours or the shared one.');
  }
  tokenStore_(scope).deleteProperty(TOKEN_PROPERTY);
  return getSettings();
}

/**
 * The property store of a token scope.
 * @param {string} scope 'personal' or 'shared'.
 * @return {GoogleAppsScript.Properties.Properties} The store.
 */
function tokenStore_(scope) {
  return scope === 'personal' ? PropertiesService.getUserProperties() :
    PropertiesService.getDocumentProperties();
}

/**
 * Settings dialog "Test connection": checks what is typed (or, for an empty field,
 * what is saved) with a call that spends nothing.
 * @param {{url?: string, token?: string}} [typed] The dialog's fields.
 * @return {string} A sentence saying what worked; throws one saying what to fix.
 */
function testConnection(typed) {
  const saved = getConfig_();
  const typedUrl = normaliseFunctionUrl_((typed && typed.url) || '');
  const typedToken = ((typed && typed.token) || '').trim();
  const config = {
    url: typedUrl || saved.url,
    token: typedToken || saved.token,
    tokenSource: typedToken ? 'typed' : saved.tokenSource,
  };
  const check = checkConnection_(config);
  if (!check.ok) {
    throw new Error(check.message);
  }
  return check.message;
}

/**
 * Checks URL and token with POST /enrich and no contact, which the function
 * authenticates and answers without calling Pronto, then reads the credits per
 * type from GET /healthz (kept an hour for estimates).
 * @param {ProntoConfig} [config] What to check (default: the settings in force).
 * @return {ConnectionCheck} The outcome; never throws.
 */
function checkConnection_(config) {
  const used = config || getConfig_();
  /** @type {ConnectionCheck} */
  const check = {ok: false, message: '', fix: '', creditsSpentToday: null, creditBudget: null,
    costs: defaultCosts_()};
  try {
    const answer = callFunction_('POST', '/enrich', {contacts: []}, {auth: 'auto', config: used});
    const stats = (answer && answer.stats) || {};
    check.creditsSpentToday = typeof stats.credits_spent_today === 'number' ?
      stats.credits_spent_today : null;
    check.creditBudget = typeof stats.credit_budget === 'number' ? stats.credit_budget : null;
  } catch (e) {
    const error = /** @type {*} */ (e);
    check.message = error.message;
    check.fix = error.fix || '';
    return check;
  }
  let keyWarning = '';
  try {
    const health = callFunction_('GET', '/healthz', null, {auth: 'none', config: used});
    enrichmentTypes_().forEach(function(type) {
      const field = 'credits_per_' + type.name;
      if (health && typeof health[field] === 'number') {
        check.costs[type.name] = health[field];
      }
    });
    if (health && health.pronto_key_configured === false) {
      keyWarning = ' But the function has no Pronto API key yet: ask your admin to set ' +
          'PRONTO_API_KEY where it runs.';
    }
    resultCache_().put(COSTS_CACHE_KEY, JSON.stringify(check.costs), COSTS_CACHE_SECONDS);
  } catch {
    keyWarning = ''; // The costs are only for estimates: the defaults do.
  }
  check.ok = true;
  const who = used.tokenSource === 'personal' ? 'your own token' :
    used.tokenSource === 'typed' ? 'the token typed' :
      used.tokenSource ? 'the shared token' : 'your Google sign-in';
  check.message = 'Connected: ' + used.url + ' accepts ' + who + '.' +
      (check.creditBudget !== null ? ' Credits spent today: ' +
        formatCount_(check.creditsSpentToday || 0) + ' of ' + formatCount_(check.creditBudget) +
        '.' : '') + keyWarning;
  return check;
}

/**
 * Credits per answer found, by type: what the function last said, else its defaults.
 * @return {Object<string, number>} The costs.
 */
function creditCosts_() {
  const costs = defaultCosts_();
  try {
    const cached = resultCache_().get(COSTS_CACHE_KEY);
    const known = cached ? JSON.parse(cached) : {};
    Object.keys(costs).forEach(function(id) {
      if (typeof known[id] === 'number') {
        costs[id] = known[id];
      }
    });
  } catch {
    return costs;
  }
  return costs;
}

/**
 * The function's default credits per answer found, by type.
 * @return {Object<string, number>} The costs.
 */
function defaultCosts_() {
  /** @type {Object<string, number>} */
  const costs = {};
  enrichmentTypes_().forEach(function(type) {
    costs[type.name] = type.default_credits;
  });
  return costs;
}

/**
 * A whole number with thousands separators, as people read it ("12,345").
 * @param {number} n The number.
 * @return {string} The text.
 */
function formatCount_(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {getConfig_, normaliseFunctionUrl_,
    functionUrlProblem_, urlAllowed_, allowlistProblem_, getSettings, saveSettings, clearToken, testConnection,
    checkConnection_, creditCosts_, formatCount_};
}
