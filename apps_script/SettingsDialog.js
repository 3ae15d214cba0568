/**
 * SettingsDialog: the server side of Pronto ▸ Settings (Settings.html): what is
 * configured, saving the URL and a token for the person or for everyone, clearing a
 * token, and testing what is typed.
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
 * @property {string} [timerProblem] After saving: why the Pronto timer could not be created.
 */

/** Where the token is kept, by the name the dialog uses. */
const TOKEN_SCOPES = ['personal', 'shared'];

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
      return false; // A store out of reach here (User Properties of an add-on not enabled) holds none for us.
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
  const timer = ensureTimerQuietly_();
  return timer.problem ? Object.assign(getSettings(), {timerProblem: timer.problem}) : getSettings();
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
 * Menu "Settings…": opens the dialog.
 */
function showSettingsDialog() {
  ensureTimerQuietly_();
  const html = page_('Settings').setWidth(480).setHeight(560);
  SpreadsheetApp.getUi().showModalDialog(html, 'Pronto settings');
}
