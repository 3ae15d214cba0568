/**
 * Configuration: where the Pronto function is and the token it accepts, read
 * from Document Properties first, then Script Properties (so an admin can set
 * them once in the script editor), and the Settings dialog's server side.
 */

/** Property holding the function's base URL (the code appends /enrich, /fill, /healthz). */
const URL_PROPERTY = 'PRONTO_FUNCTION_URL';
/** Property holding the shared secret the function accepts as a Bearer token. */
const TOKEN_PROPERTY = 'PRONTO_FUNCTION_TOKEN';

/**
 * The connection settings in force.
 * @typedef {Object} ProntoConfig
 * @property {string} url The function's base URL without a trailing slash ('' when unset).
 * @property {string} token The shared token ('' when unset).
 */

/**
 * What the Settings dialog shows: never the token itself.
 * @typedef {Object} SettingsView
 * @property {string} url The function URL ('' when unset).
 * @property {string} urlSource 'document', 'script' or '' (where the URL comes from).
 * @property {boolean} tokenSet Whether a token is set.
 * @property {string} tokenSource 'document', 'script' or ''.
 */

/**
 * Reads one property: Document Properties first, then Script Properties.
 * @param {string} name The property name.
 * @return {{value: string, source: string}} The value ('' when unset) and where it came from.
 */
function readProperty_(name) {
  const documentProperties = PropertiesService.getDocumentProperties();
  const fromDocument = documentProperties ? documentProperties.getProperty(name) : null;
  if (fromDocument) {
    return {value: fromDocument, source: 'document'};
  }
  const fromScript = PropertiesService.getScriptProperties().getProperty(name);
  if (fromScript) {
    return {value: fromScript, source: 'script'};
  }
  return {value: '', source: ''};
}

/**
 * The connection settings in force.
 * @return {ProntoConfig} The URL and token.
 */
function getConfig_() {
  return {
    url: normaliseFunctionUrl_(readProperty_(URL_PROPERTY).value),
    token: readProperty_(TOKEN_PROPERTY).value.trim(),
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
 * Checks a function URL: https, or http to this machine for local tests.
 * @param {string} url The base URL.
 * @return {string} '' when acceptable, otherwise a sentence saying what to fix.
 */
function functionUrlProblem_(url) {
  if (!url) {
    return 'Paste the function URL (it starts with https://).';
  }
  if (/^https:\/\/[^\s/]+/.test(url) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url)) {
    return '';
  }
  return 'The function URL must start with https:// — copy it from the deployment ' +
      'output (for example https://europe-west1-my-project.cloudfunctions.net/pronto).';
}

/**
 * Settings dialog: what is configured now, without revealing the token.
 * @return {SettingsView} The view.
 */
function getSettings() {
  const url = readProperty_(URL_PROPERTY);
  const token = readProperty_(TOKEN_PROPERTY);
  return {
    url: normaliseFunctionUrl_(url.value),
    urlSource: url.source,
    tokenSet: Boolean(token.value),
    tokenSource: token.source,
  };
}

/**
 * Settings dialog: saves the URL and, when one is typed, the token, in this
 * spreadsheet's Document Properties.
 * @param {{url: string, token?: string, clearToken?: boolean}} settings What the person typed.
 * @return {SettingsView} The settings now in force.
 */
function saveSettings(settings) {
  const url = normaliseFunctionUrl_(settings && settings.url);
  const problem = functionUrlProblem_(url);
  if (problem) {
    throw new Error(problem);
  }
  const properties = PropertiesService.getDocumentProperties() ||
      PropertiesService.getScriptProperties();
  properties.setProperty(URL_PROPERTY, url);
  const token = ((settings && settings.token) || '').trim();
  if (token) {
    properties.setProperty(TOKEN_PROPERTY, token);
  } else if (settings && settings.clearToken) {
    properties.deleteProperty(TOKEN_PROPERTY);
  }
  return getSettings();
}

/**
 * Settings dialog "Test connection": calls /healthz, then looks up one sample
 * contact through /enrich (cached by the function after the first time).
 * @return {string} A sentence saying what worked.
 */
function testConnection() {
  const health = callFunction_('GET', '/healthz', null, {auth: 'auto'});
  const answer = enrichOnce_([SAMPLE_CONTACT], ['email'], {
    priority: 'interactive', timeoutS: 20, auth: 'auto',
  });
  const result = answer.results[0];
  if (result.status === 'failed' || result.status === 'over_budget') {
    throw new Error(describeRowFailure_(result));
  }
  const budget = answer.stats && answer.stats.credit_budget;
  return 'Connected: the function answers' +
      (health && health.ok ? '' : ' (its health check looked unusual)') +
      ' and a test lookup came back "' + result.status + '".' +
      (budget ? ' Daily credit budget: ' + budget + '.' : '');
}

/** The contact "Test connection" looks up (the example of Pronto's own documentation). */
const SAMPLE_CONTACT = {
  firstname: 'Mathieu',
  lastname: 'Brun-Picard',
  company_name: 'Pronto',
  domain: 'prontohq.com',
};

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {getConfig_, normaliseFunctionUrl_, functionUrlProblem_, getSettings,
    saveSettings, testConnection};
}
