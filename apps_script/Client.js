/**
 * Client: the calls to the Pronto function (POST /enrich, POST /fill,
 * GET /healthz) and the translation of every failure into a sentence that says
 * what to do next.
 *
 * Formulas authenticate with the shared token (custom functions cannot get an
 * identity token); the sidebar, menu and triggers use the token when one is set,
 * else the person's Google ID token from ScriptApp.getIdentityToken().
 */

/** POST /enrich takes at most this many contacts per call. */
const MAX_CONTACTS_PER_CALL = 1000;
/** UrlFetchApp gives up on an answer after about 60 s; a failure this late is that. */
const FETCH_GIVES_UP_MS = 55000;

/**
 * The body of a 200 from POST /enrich.
 * @typedef {Object} EnrichAnswer
 * @property {Array<*>} results In the order of the contacts sent: each with its status,
 *     the values found (email, phones, personal_email and their statuses), its message,
 *     and `types`: each type's own status and message (resultFromAnswer_ reads them).
 * @property {Object<string, number>} stats Counts kept by the function.
 * @property {Array<{code: string, message: string}>} [notices] Account-level conditions,
 *     said once per call (personal emails paused for lack of consent, the budget spent).
 */

/**
 * How a call authenticates and how long the function may take.
 * @typedef {Object} CallOptions
 * @property {string} [auth] 'token' (formulas: the shared token, never User
 *     Properties nor an identity token), 'auto' (a token, else the person's Google
 *     ID token) or 'none' (GET /healthz).
 * @property {string} [priority] interactive, batch or background.
 * @property {number} [timeoutS] Seconds the function may spend before answering pending.
 * @property {ProntoConfig} [config] Settings to use instead of those saved (Test connection).
 */

/** Error codes whose fix is in Pronto ▸ Settings. */
const SETTINGS_CODES = ['no_url', 'bad_url', 'not_allowed', 'no_token', 'unauthenticated',
  'auth_not_configured', 'forbidden', 'not_found', 'not_pronto', 'unreachable'];

/**
 * Makes an Error whose message a person can act on, remembering the HTTP status,
 * the function's error code, and whether the fix is in Settings ("fix").
 * @param {string} message The sentence.
 * @param {number} httpStatus The HTTP status (0 when there was no answer).
 * @param {string} code The function's error code, or a local one.
 * @return {Error} The error.
 */
function prontoError_(message, httpStatus, code) {
  const error = new Error(message);
  /** @type {*} */ (error).httpStatus = httpStatus;
  /** @type {*} */ (error).code = code;
  /** @type {*} */ (error).fix = SETTINGS_CODES.indexOf(code) === -1 ? '' : 'settings';
  return error;
}

/**
 * The Authorization header value for a call.
 * @param {ProntoConfig} config The settings in force.
 * @param {string} auth 'token' or 'auto'.
 * @return {string} "Bearer …".
 */
function authorization_(config, auth) {
  if (config.token) {
    return 'Bearer ' + config.token;
  }
  if (auth === 'token') {
    // Custom functions cannot read the person's own token (User Properties).
    throw prontoError_('Formulas need a token shared with this spreadsheet: in Pronto ▸ ' +
        'Settings, save the token for everyone editing it (ask your admin for the token).', 0,
    'no_token');
  }
  let identityToken = null;
  try {
    identityToken = ScriptApp.getIdentityToken();
  } catch {
    identityToken = null; // No identity here: the sentence below says to set a token.
  }
  if (!identityToken) {
    throw prontoError_('Set the access token in Pronto ▸ Settings (ask your admin for it): ' +
        'your Google sign-in could not be used here.', 0, 'no_token');
  }
  return 'Bearer ' + identityToken;
}

/**
 * Calls the function and returns its parsed JSON answer, or throws an Error
 * whose message says what to do.
 * @param {string} method 'GET' or 'POST'.
 * @param {string} path '/enrich', '/fill' or '/healthz'.
 * @param {?Object} body The JSON body (POST only).
 * @param {CallOptions} options Authentication.
 * @return {*} The parsed answer.
 */
function callFunction_(method, path, body, options) {
  const config = options.config || getConfig_({personal: options.auth !== 'token'});
  if (!config.url) {
    throw prontoError_('Set the function URL in Pronto ▸ Settings (ask your admin for it).',
        0, 'no_url');
  }
  const problem = functionUrlProblem_(config.url);
  if (problem) {
    throw prontoError_('The function URL in Pronto ▸ Settings is not usable. ' + problem,
        0, 'bad_url');
  }
  const url = config.url + path;
  /** @type {GoogleAppsScript.URL_Fetch.URLFetchRequestOptions} */
  const request = {
    method: method === 'GET' ? 'get' : 'post',
    muteHttpExceptions: true,
  };
  if (options.auth !== 'none') {
    request.headers = {Authorization: authorization_(config, options.auth || 'auto')};
  }
  if (body) {
    request.contentType = 'application/json';
    request.payload = JSON.stringify(body);
  }
  let response;
  const started = Date.now();
  try {
    response = UrlFetchApp.fetch(url, request);
  } catch (e) {
    const refusal = String(/** @type {Error} */ (e).message);
    if (/whitelist|allowlist|not allowed/i.test(refusal)) {
      // Apps Script refused the address (manifest urlFetchWhitelist): say so, not "unreachable".
      throw prontoError_('The function URL in Pronto ▸ Settings is not usable. ' +
          allowlistProblem_(config.url), 0, 'not_allowed');
    }
    if (/too many times for one day/i.test(refusal)) {
      throw prontoError_('Google\'s daily limit of URL calls for this account is reached ' +
          '(20,000 a day, 100,000 with Google Workspace): Pronto can ask nothing more until it ' +
          'resets, 24 hours after the first call of the day. Cells keep the answers they have.',
      0, 'urlfetch_quota');
    }
    // UrlFetchApp gives up after about a minute ("Timeout"): the function goes on with the work.
    if (Date.now() - started >= FETCH_GIVES_UP_MS ||
        /timeout|timed out/i.test(String(/** @type {Error} */ (e).message))) {
      throw prontoError_('The Pronto function is taking longer than Apps Script waits (one ' +
          'minute); it keeps working on its side. Check again in a few minutes.', 0, 'timeout');
    }
    throw prontoError_('Could not reach the Pronto function at ' + config.url +
        '. Check the URL in Pronto ▸ Settings, then try again in a minute.', 0, 'unreachable');
  }
  countFetch_();
  return parseAnswer_(response, config.url, path);
}

/**
 * Reads the function's answer, translating errors into sentences.
 * @param {GoogleAppsScript.URL_Fetch.HTTPResponse} response The answer.
 * @param {string} baseUrl The function URL (named in messages).
 * @param {string} path The path called.
 * @return {*} The parsed JSON body of a 2xx answer.
 */
function parseAnswer_(response, baseUrl, path) {
  const status = response.getResponseCode();
  const text = response.getContentText();
  /** @type {*} */
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null; // Not JSON: judged below by its status ("not like the Pronto function").
  }
  const error = parsed && parsed.error && typeof parsed.error === 'object' ? parsed.error : null;
  const code = error && error.code ? String(error.code) : '';
  const serverMessage = error && error.message ? String(error.message) : '';
  if (status >= 200 && status < 300) {
    if (parsed === null || typeof parsed !== 'object') {
      throw prontoError_('The address in Pronto ▸ Settings answered, but not like the Pronto ' +
          'function: check the URL.', status, 'not_pronto');
    }
    return parsed;
  }
  if (status === 401) {
    throw prontoError_(serverMessage || 'The Pronto function did not accept the access ' +
        'token. Paste the current token in Pronto ▸ Settings (ask your admin for it).', status,
    code || 'unauthenticated');
  }
  if (status === 403) {
    throw prontoError_(serverMessage ||
        'The Pronto function refused this account. Ask your admin to allow it.', status,
    code || 'forbidden');
  }
  if (status === 404 && !error) {
    throw prontoError_('Nothing answers at ' + baseUrl + path + ': check the function URL ' +
        'in Pronto ▸ Settings.', status, 'not_found');
  }
  if (status >= 500) {
    throw prontoError_('The Pronto function failed (HTTP ' + status + '). Try again in a few ' +
        'minutes; if it keeps failing, tell your admin.', status, code || 'server_error');
  }
  throw prontoError_(serverMessage || ('The Pronto function refused the request (HTTP ' +
      status + '). Check the URL in Pronto ▸ Settings.'), status, code || 'refused');
}

/**
 * One POST /enrich call (at most MAX_CONTACTS_PER_CALL contacts).
 * @param {Array<Object<string, string>>} contacts The contacts as sent (requestContact_), in order.
 * @param {Array<string>} types The types to find for every one of them.
 * @param {CallOptions} options Priority, timeout and authentication.
 * @return {EnrichAnswer} The answer, one result per contact in the same order.
 */
function enrichOnce_(contacts, types, options) {
  const answer = callFunction_('POST', '/enrich', {
    contacts: contacts,
    enrichment_type: types,
    priority: options.priority || 'batch',
    timeout_s: options.timeoutS || 25,
  }, options);
  if (!answer || !Array.isArray(answer.results) || answer.results.length !== contacts.length) {
    throw prontoError_('The Pronto function answered with the wrong number of results; ' +
        'nothing was written. Try again, and tell your admin if it happens again.', 200,
    'bad_answer');
  }
  return /** @type {EnrichAnswer} */ (answer);
}

/**
 * A sentence for a row whose lookup failed or went over budget.
 * @param {{status: string, message: ?string}} result The row's (or type's) result.
 * @return {string} What happened and what to do.
 */
function describeRowFailure_(result) {
  const message = (result.message || '').trim();
  if (result.status === 'over_budget') {
    return 'The daily Pronto credit budget is used up' + (message ? ' (' + message + ')' : '') +
        '. Rows left are looked up again tomorrow, or ask your admin to raise the budget.';
  }
  const detail = message ? capitalise_(message.replace(/[.\s]+$/, '')) + '.' :
    'Pronto kept failing.';
  return 'The Pronto lookup failed: ' + detail + (/admin|settings|try again|retry/i.test(message) ?
    '' : ' Try again later; if it keeps failing, tell your admin.');
}

/**
 * Upper-cases the first letter.
 * @param {string} text The text.
 * @return {string} The text with a capital first letter.
 */
function capitalise_(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The account-level notices of a run, as sentences (the budget is said by the run itself).
 * @param {Object<string, string>} notices Notices by code.
 * @return {string} The sentences ('' when none).
 */
function accountNotices_(notices) {
  return Object.keys(notices).filter(function(code) {
    return code !== 'over_budget';
  }).map(function(code) {
    return notices[code];
  }).join(' ');
}

/** Cache key prefix of the day's count of calls to the function (per spreadsheet). */
const FETCH_COUNT_PREFIX = 'pronto-fetches|';
/** URL calls a consumer account may make a day (guides/services/quotas). */
const URL_FETCH_DAY_LIMIT = 20000;

/**
 * Counts a call to the function in today's count (an estimate kept in the document cache,
 * so that the sidebar can warn before Google's daily limit of URL calls is reached).
 */
function countFetch_() {
  const key = FETCH_COUNT_PREFIX + new Date().toISOString().slice(0, 10);
  try {
    const cache = resultCache_();
    cache.put(key, String((Number(cache.get(key)) || 0) + 1), 21600);
  } catch (e) {
    // Only an estimate for a warning: the call itself went through.
    console.warn('Pronto could not count a call: ' + /** @type {Error} */ (e).message);
  }
}

/**
 * Today's calls to the function from this spreadsheet, as counted (an estimate).
 * @return {number} The calls.
 */
function fetchesToday_() {
  return Number(resultCache_().get(FETCH_COUNT_PREFIX + new Date().toISOString().slice(0, 10))) || 0;
}
