/**
 * Connection: checking the settings in force with calls that spend nothing, and the
 * credits per type the function charges (for the estimates), kept an hour.
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

/** Document cache key of the credits per type the function last reported. */
const COSTS_CACHE_KEY = 'pronto-costs';

/** Seconds the reported costs are kept. */
const COSTS_CACHE_SECONDS = 3600;

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
    return costs; // A damaged cached value: the function's defaults do for an estimate.
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
