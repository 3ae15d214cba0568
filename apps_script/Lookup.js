/**
 * Lookup: answers for a list of contacts, paid once each: duplicates are sent
 * once, cached answers are not sent at all, the rest go to POST /enrich in as
 * few calls as possible, and whatever cannot be asked before the deadline comes
 * back as pending.
 */

/** Seconds left under which another /enrich call is not started. */
const MIN_CALL_SECONDS = 3;

/**
 * What a lookup did, for counters and tests.
 * @typedef {Object} LookupStats
 * @property {number} cacheHits Contacts answered from CacheService.
 * @property {number} sent Contacts sent to the function.
 * @property {number} calls POST /enrich calls made.
 * @property {?Object<string, number>} serverStats The function's stats from the last call.
 */

/**
 * Options of a lookup.
 * @typedef {Object} LookupOptions
 * @property {string} priority interactive, batch or background.
 * @property {number} timeoutS Longest wait asked of the function per call.
 * @property {number} [deadline] Date.now() value after which no call starts.
 * @property {number} [maxPerCall] Contacts per call (default MAX_CONTACTS_PER_CALL).
 * @property {string} auth 'token' or 'auto'.
 * @property {boolean} [skipCache] Ask the function even for cached contacts.
 */

/**
 * Looks up distinct contacts, from the cache first, then through /enrich.
 * @param {Array<{key: string, contact: Contact}>} items Contacts with their keys (duplicates allowed).
 * @param {Array<string>} types The enrichment types.
 * @param {LookupOptions} options Priority, timeout, deadline, authentication.
 * @return {{results: Object<string, EnrichResult>, stats: LookupStats}} Results by key.
 */
function lookupContacts_(items, types, options) {
  /** @type {Object<string, Contact>} */
  const contactsByKey = {};
  items.forEach(function(item) {
    if (!contactsByKey[item.key]) {
      contactsByKey[item.key] = item.contact;
    }
  });
  const keys = Object.keys(contactsByKey);
  const results = options.skipCache ? {} : readCachedResults_(keys, types);
  /** @type {LookupStats} */
  const stats = {cacheHits: Object.keys(results).length, sent: 0, calls: 0, serverStats: null};
  const missing = keys.filter(function(key) {
    return !results[key];
  });
  const perCall = Math.min(options.maxPerCall || MAX_CONTACTS_PER_CALL, MAX_CONTACTS_PER_CALL);
  /** @type {Object<string, EnrichResult>} */
  const fresh = {};
  for (let start = 0; start < missing.length; start += perCall) {
    const batch = missing.slice(start, start + perCall);
    let timeoutS = options.timeoutS;
    if (options.deadline) {
      const secondsLeft = Math.floor((options.deadline - Date.now()) / 1000);
      if (secondsLeft < MIN_CALL_SECONDS) {
        batch.forEach(function(key) {
          results[key] = pendingResult_();
        });
        continue;
      }
      timeoutS = Math.min(timeoutS, secondsLeft - 1);
    }
    const answer = enrichOnce_(batch.map(function(key) {
      return contactsByKey[key];
    }), types, {priority: options.priority, timeoutS: timeoutS, auth: options.auth});
    stats.calls++;
    stats.sent += batch.length;
    stats.serverStats = answer.stats || null;
    batch.forEach(function(key, index) {
      const result = normaliseResult_(answer.results[index]);
      results[key] = result;
      fresh[key] = result;
    });
  }
  storeResults_(fresh, types);
  return {results: results, stats: stats};
}

/**
 * A pending result for contacts not asked before the deadline.
 * @return {EnrichResult} The result.
 */
function pendingResult_() {
  return {
    status: 'pending', email: null, email_status: null, phones: [], phone_status: null,
    message: 'not asked yet', cached: false,
  };
}

/**
 * Accepts phones as objects or plain strings and fills absent fields.
 * @param {*} raw One result from the function.
 * @return {EnrichResult} The result.
 */
function normaliseResult_(raw) {
  const result = raw || {};
  /**
   * @param {*} phone A phone as an object or a plain string.
   * @return {{number: string, type: ?string}} The phone as an object.
   */
  function asObject(phone) {
    if (phone && typeof phone === 'object') {
      return {number: String(phone.number || ''), type: phone.type || null};
    }
    return {number: String(phone), type: null};
  }
  /** @type {Array<*>} */
  const rawPhones = Array.isArray(result.phones) ? result.phones : [];
  const phones = rawPhones.map(asObject).filter(function(phone) {
    return phone.number;
  });
  return {
    status: String(result.status || 'failed'),
    email: result.email || null,
    email_status: result.email_status || null,
    phones: phones,
    phone_status: result.phone_status || null,
    message: result.message || null,
    cached: Boolean(result.cached),
  };
}

/**
 * The first phone number of a result ('' when none).
 * @param {EnrichResult} result The result.
 * @return {string} The number.
 */
function firstPhone_(result) {
  return result.phones && result.phones.length ? result.phones[0].number : '';
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {lookupContacts_, normaliseResult_, firstPhone_};
}
