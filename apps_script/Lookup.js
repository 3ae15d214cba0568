/**
 * Lookup: answers for contacts, per enrichment type, paid once each: a contact on
 * several rows is asked once (for every type any of its rows still needs), types the
 * cache knows are not asked again, the rest go to POST /enrich grouped by the types
 * left to ask (one call per group, more only past 1,000 contacts), and whatever cannot
 * be asked before the deadline comes back as pending. Only types a contact may be asked
 * reach here: phone and personal email without a LinkedIn URL are never sent.
 */

/** Seconds left under which another /enrich call is not started. */
const MIN_CALL_SECONDS = 3;

/**
 * One contact and the types to find for it.
 * @typedef {Object} LookupItem
 * @property {string} key Its identity.
 * @property {Contact} contact The contact.
 * @property {Array<string>} types The types to find (all of them askable).
 */

/**
 * What a lookup did, for counters and tests.
 * @typedef {Object} LookupStats
 * @property {number} cacheHits Contacts answered entirely from CacheService.
 * @property {number} sent Contacts sent to the function.
 * @property {number} calls POST /enrich calls made.
 * @property {?Object<string, number>} serverStats The function's stats from the last call.
 */

/**
 * What a lookup found.
 * @typedef {Object} LookupAnswer
 * @property {Object<string, Object<string, TypeResult>>} results By identity, then type.
 * @property {LookupStats} stats
 * @property {Object<string, string>} notices Account-level notices by code (consent, budget).
 */

/**
 * Options of a lookup.
 * @typedef {Object} LookupOptions
 * @property {string} priority interactive, batch or background.
 * @property {number} timeoutS Longest wait asked of the function per call.
 * @property {number} [deadline] Date.now() value after which no call starts.
 * @property {number} [maxPerCall] Contacts per call (default MAX_CONTACTS_PER_CALL).
 * @property {string} auth 'token' or 'auto'.
 */

/**
 * Looks up contacts' types, from the cache first, then through /enrich.
 * @param {Array<LookupItem>} items Contacts with their types (duplicates allowed).
 * @param {LookupOptions} options Priority, timeout, deadline, authentication.
 * @return {LookupAnswer} Results by identity and type.
 */
function lookupTypes_(items, options) {
  /** @type {Object<string, Contact>} */
  const contacts = {};
  /** @type {Object<string, Array<string>>} */
  const wanted = {};
  items.forEach(function(item) {
    contacts[item.key] = contacts[item.key] || item.contact;
    wanted[item.key] = (wanted[item.key] || []).concat(item.types);
  });
  const keys = Object.keys(wanted);
  const order = enrichmentTypeIds_();
  const cached = readCachedTypes_(keys);
  /** @type {Object<string, Object<string, TypeResult>>} */
  const results = {};
  /** @type {LookupStats} */
  const stats = {cacheHits: 0, sent: 0, calls: 0, serverStats: null};
  /** @type {Object<string, string>} */
  const notices = {};
  /** @type {Object<string, {types: Array<string>, keys: Array<string>}>} */
  const groups = {};
  keys.forEach(function(key) {
    results[key] = {};
    const known = cached[key] || {};
    const missing = order.filter(function(type) {
      if (wanted[key].indexOf(type) === -1) {
        return false;
      }
      if (known[type]) {
        results[key][type] = known[type];
        return false;
      }
      return true;
    });
    if (!missing.length) {
      stats.cacheHits++;
      return;
    }
    const group = groups[missing.join('+')] = groups[missing.join('+')] || {types: missing, keys: []};
    group.keys.push(key);
  });
  const perCall = Math.min(options.maxPerCall || MAX_CONTACTS_PER_CALL, MAX_CONTACTS_PER_CALL);
  /** @type {Object<string, Object<string, TypeResult>>} */
  const fresh = {};
  Object.keys(groups).forEach(function(name) {
    const group = groups[name];
    for (let start = 0; start < group.keys.length; start += perCall) {
      const batch = group.keys.slice(start, start + perCall);
      let timeoutS = options.timeoutS;
      if (options.deadline) {
        const secondsLeft = Math.floor((options.deadline - Date.now()) / 1000);
        if (secondsLeft < MIN_CALL_SECONDS) {
          batch.forEach(function(key) {
            group.types.forEach(function(type) {
              results[key][type] = typeResult_('pending', VOCABULARY.messages.pending);
            });
          });
          continue;
        }
        timeoutS = Math.min(timeoutS, secondsLeft - 1);
      }
      const answer = enrichOnce_(batch.map(function(key) {
        return requestContact_(contacts[key]);
      }), group.types, {priority: options.priority, timeoutS: timeoutS, auth: options.auth});
      stats.calls++;
      stats.sent += batch.length;
      stats.serverStats = answer.stats || null;
      (Array.isArray(answer.notices) ? answer.notices : []).forEach(function(notice) {
        if (notice && notice.code && !notices[notice.code]) {
          notices[String(notice.code)] = String(notice.message || '');
        }
      });
      batch.forEach(function(key, index) {
        const row = resultFromAnswer_(answer.results[index], group.types);
        fresh[key] = {};
        group.types.forEach(function(type) {
          const result = row.types[type] || typeResult_(row.status, row.message);
          results[key][type] = result;
          fresh[key][type] = result;
        });
      });
    }
  });
  storeTypes_(fresh, cached);
  return {results: results, stats: stats, notices: notices};
}

/**
 * A row's result for some types: each looked up, or not asked because Pronto needs a
 * LinkedIn URL for it (the status says what to add); a row that cannot be looked up at
 * all is invalid with its reason.
 * @param {ContactEntry} entry The row's contact.
 * @param {Array<string>} types The types the row asks, in the vocabulary's order.
 * @param {Object<string, Object<string, TypeResult>>} results Lookup results by identity.
 * @return {RowResult} The row's result.
 */
function rowResult_(entry, types, results) {
  if (!entry.valid) {
    return invalidRowResult_(entry.invalidReason, types);
  }
  /** @type {Object<string, TypeResult>} */
  const byType = {};
  types.forEach(function(type) {
    if (!canAsk_(entry.contact, type)) {
      byType[type] = typeResult_('needs_linkedin', VOCABULARY.messages.needs_linkedin[type]);
    } else {
      const found = results[entry.key] && results[entry.key][type];
      byType[type] = found || typeResult_('pending', VOCABULARY.messages.pending);
    }
  });
  return combineTypes_(byType);
}

/**
 * The lookups some rows need: each valid row's types it may be asked.
 * @param {Array<{entry: ContactEntry, types: Array<string>}>} rows The rows and their types.
 * @return {Array<LookupItem>} The items (a contact may repeat).
 */
function lookupItems_(rows) {
  /** @type {Array<LookupItem>} */
  const items = [];
  rows.forEach(function(row) {
    if (!row.entry.valid) {
      return;
    }
    const askable = row.types.filter(function(type) {
      return canAsk_(row.entry.contact, type);
    });
    if (askable.length) {
      items.push({key: row.entry.key, contact: row.entry.contact, types: askable});
    }
  });
  return items;
}
