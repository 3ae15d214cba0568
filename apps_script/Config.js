/**
 * Config: where the Pronto function is and the token it accepts (the Settings dialog,
 * SettingsDialog.js, writes them).
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
 * The connection settings in force.
 * @typedef {Object} ProntoConfig
 * @property {string} url The function's base URL without a trailing slash ('' when unset).
 * @property {string} token The token ('' when unset).
 * @property {string} tokenSource 'personal', 'shared', 'admin', 'typed' or ''.
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
 * What to say when UrlFetchApp refuses a URL: the manifest's urlFetchWhitelist holds
 * only the deployed function's URL (deploy.sh writes it when it pushes the add-in), so
 * any other address is refused (developers.google.com/apps-script/manifest/allowlist-url).
 * @param {string} url The base URL.
 * @return {string} The sentence.
 */
function allowlistProblem_(url) {
  return 'The add-in may only call the Pronto function it was deployed with (the ' +
      'urlFetchWhitelist of its appsscript.json, which deploy.sh writes), and ' + url +
      ' is not it. Use the URL deploy.sh printed, or ask your admin to deploy the add-in ' +
      'again for this address.';
}

/**
 * The email of the person running this code ('' when Google does not say).
 * @return {string} The email.
 */
function currentUserEmail_() {
  try {
    return Session.getEffectiveUser().getEmail() || '';
  } catch {
    return ''; // Google does not say who (a consumer account in a trigger): shown as "someone".
  }
}
