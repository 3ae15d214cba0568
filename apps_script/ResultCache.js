/**
 * ResultCache: Pronto's answers (success and not_found) kept in CacheService for six
 * hours per contact and type, so that Sheets recalculating a formula (on open, sort, row
 * insert) makes no call and spends no credit, and asking phones of contacts whose emails
 * are known asks only the phones. One entry per contact holds the types it has answers for.
 *
 * CacheService limits: keys ≤ 250 characters (longer ones are hashed), values
 * ≤ 100 KB, expiry ≤ 21,600 s, about 1,000 items per cache (the oldest go first).
 */

/** Seconds a result stays cached: CacheService's maximum. */
const CACHE_SECONDS = 21600;
/** Longest key CacheService accepts. */
const MAX_CACHE_KEY_LENGTH = 250;
/** Keys read or written per CacheService call. */
const CACHE_BATCH = 500;
/** Prefix of the cache keys (the identity's version is in the identity itself). */
const CACHE_PREFIX = 'pronto2';

/**
 * The cache of this spreadsheet (the script's when there is no document).
 * @return {GoogleAppsScript.Cache.Cache} The cache.
 */
function resultCache_() {
  return CacheService.getDocumentCache() || CacheService.getScriptCache();
}

/**
 * The cache key of a contact.
 * @param {string} identity The contact's identity (identityText_).
 * @return {string} A key of at most 250 characters.
 */
function cacheKey_(identity) {
  const raw = CACHE_PREFIX + '|' + identity;
  if (raw.length <= MAX_CACHE_KEY_LENGTH) {
    return raw;
  }
  const digest = Utilities.computeDigest(Utilities.DigestAlgorithm.SHA_256, raw,
      Utilities.Charset.UTF_8);
  return CACHE_PREFIX + '#' + Utilities.base64EncodeWebSafe(digest);
}

/**
 * The answers cached for some contacts, by type.
 * @param {Array<string>} identities The contacts' identities.
 * @return {Object<string, Object<string, TypeResult>>} By identity, then type.
 */
function readCachedTypes_(identities) {
  /** @type {Object<string, Object<string, TypeResult>>} */
  const found = {};
  if (!identities.length) {
    return found;
  }
  const cache = resultCache_();
  for (let start = 0; start < identities.length; start += CACHE_BATCH) {
    const batch = identities.slice(start, start + CACHE_BATCH);
    const keys = batch.map(cacheKey_);
    const values = cache.getAll(keys);
    batch.forEach(function(identity, index) {
      const types = unpackTypes_(values[keys[index]]);
      if (types) {
        found[identity] = types;
      }
    });
  }
  return found;
}

/**
 * Caches the answers among fresh results, beside what each contact already had cached.
 * @param {Object<string, Object<string, TypeResult>>} fresh New results by identity and type.
 * @param {Object<string, Object<string, TypeResult>>} known What the cache held for them.
 * @return {number} How many contacts were written.
 */
function storeTypes_(fresh, known) {
  /** @type {Object<string, string>} */
  let batch = {};
  let inBatch = 0;
  let stored = 0;
  const cache = resultCache_();
  Object.keys(fresh).forEach(function(identity) {
    const answers = Object.keys(fresh[identity]).filter(function(type) {
      return isAnswer_(fresh[identity][type].status);
    });
    if (!answers.length) {
      return;
    }
    /** @type {Object<string, TypeResult>} */
    const merged = Object.assign({}, known[identity] || {});
    answers.forEach(function(type) {
      merged[type] = fresh[identity][type];
    });
    batch[cacheKey_(identity)] = packTypes_(merged);
    inBatch++;
    stored++;
    if (inBatch === CACHE_BATCH) {
      cache.putAll(batch, CACHE_SECONDS);
      batch = {};
      inBatch = 0;
    }
  });
  if (inBatch) {
    cache.putAll(batch, CACHE_SECONDS);
  }
  return stored;
}

/**
 * Packs a contact's answers into a short JSON string.
 * @param {Object<string, TypeResult>} types The answers by type.
 * @return {string} The packed form.
 */
function packTypes_(types) {
  /** @type {Object<string, Object>} */
  const packed = {};
  Object.keys(types).forEach(function(type) {
    const result = types[type];
    packed[type] = {s: result.status, v: result.value, p: result.phones.slice(0, 5),
      vs: result.valueStatus, m: result.message};
  });
  return JSON.stringify(packed);
}

/**
 * Unpacks a contact's cached answers; null when there are none or they cannot be read.
 * @param {?string|undefined} text The packed form.
 * @return {?Object<string, TypeResult>} The answers by type.
 */
function unpackTypes_(text) {
  if (!text) {
    return null;
  }
  try {
    const packed = JSON.parse(text);
    /** @type {Object<string, TypeResult>} */
    const types = {};
    Object.keys(packed).forEach(function(type) {
      const item = packed[type];
      types[type] = {status: item.s, value: item.v || null, phones: item.p || [],
        valueStatus: item.vs || null, message: item.m || null};
    });
    return types;
  } catch {
    return null; // A damaged entry counts as not cached: the function answers again, for free.
  }
}
