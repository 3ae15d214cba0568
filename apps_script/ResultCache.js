/**
 * ResultCache: final answers (success and not_found) kept in CacheService for
 * six hours under the normalised contact, so that Sheets recalculating a formula
 * (on open, sort, row insert) makes no call and spends no credit.
 *
 * CacheService limits: keys ≤ 250 characters (longer ones are hashed), values
 * ≤ 100 KB, expiry ≤ 21,600 s, about 1,000 items per cache (the oldest go first).
 */

/** Seconds a result stays cached: CacheService's maximum. */
const CACHE_SECONDS = 21600;
/** Longest key CacheService accepts. */
const MAX_CACHE_KEY_LENGTH = 250;
/** Statuses worth caching: the others are looked at again. */
const FINAL_STATUSES = ['success', 'not_found'];
/** Keys read or written per CacheService call. */
const CACHE_BATCH = 500;

/**
 * The cache of this spreadsheet (the script's when there is no document).
 * @return {GoogleAppsScript.Cache.Cache} The cache.
 */
function resultCache_() {
  return CacheService.getDocumentCache() || CacheService.getScriptCache();
}

/**
 * The cache key of a contact for the given enrichment types.
 * @param {string} contactKey The normalised contact (see contactKey_).
 * @param {Array<string>} types The enrichment types.
 * @return {string} A key of at most 250 characters.
 */
function cacheKey_(contactKey, types) {
  const raw = 'pronto1|' + types.slice().sort().join('+') + '|' + contactKey;
  if (raw.length <= MAX_CACHE_KEY_LENGTH) {
    return raw;
  }
  const digest = Utilities.computeDigest(Utilities.DigestAlgorithm.SHA_256, raw,
      Utilities.Charset.UTF_8);
  return 'pronto1#' + Utilities.base64EncodeWebSafe(digest);
}

/**
 * Reads the cached results of some contacts.
 * @param {Array<string>} contactKeys Normalised contact keys.
 * @param {Array<string>} types The enrichment types.
 * @return {Object<string, EnrichResult>} The cached results by contact key.
 */
function readCachedResults_(contactKeys, types) {
  /** @type {Object<string, EnrichResult>} */
  const found = {};
  if (!contactKeys.length) {
    return found;
  }
  const cache = resultCache_();
  for (let start = 0; start < contactKeys.length; start += CACHE_BATCH) {
    const batch = contactKeys.slice(start, start + CACHE_BATCH);
    const keys = batch.map(function(key) {
      return cacheKey_(key, types);
    });
    const values = cache.getAll(keys);
    batch.forEach(function(contactKey, index) {
      const text = values[keys[index]];
      if (text) {
        const result = unpackResult_(text);
        if (result) {
          found[contactKey] = result;
        }
      }
    });
  }
  return found;
}

/**
 * Caches the final results among those given; the others are not kept.
 * @param {Object<string, EnrichResult>} resultsByKey Results by normalised contact key.
 * @param {Array<string>} types The enrichment types.
 * @return {number} How many results were cached.
 */
function storeResults_(resultsByKey, types) {
  /** @type {Object<string, string>} */
  let batch = {};
  let inBatch = 0;
  let stored = 0;
  const cache = resultCache_();
  Object.keys(resultsByKey).forEach(function(contactKey) {
    const result = resultsByKey[contactKey];
    if (FINAL_STATUSES.indexOf(result.status) === -1) {
      return;
    }
    batch[cacheKey_(contactKey, types)] = packResult_(result);
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
 * Packs a result into a short JSON string.
 * @param {EnrichResult} result The result.
 * @return {string} The packed form.
 */
function packResult_(result) {
  return JSON.stringify({
    s: result.status,
    e: result.email || null,
    es: result.email_status || null,
    p: (result.phones || []).slice(0, 5),
    ps: result.phone_status || null,
    m: result.message || null,
  });
}

/**
 * Unpacks a cached result; null when it cannot be read.
 * @param {string} text The packed form.
 * @return {?EnrichResult} The result.
 */
function unpackResult_(text) {
  try {
    const packed = JSON.parse(text);
    return {
      status: packed.s,
      email: packed.e,
      email_status: packed.es,
      phones: packed.p || [],
      phone_status: packed.ps,
      message: packed.m,
      cached: true,
    };
  } catch {
    return null;
  }
}

if (typeof module === 'object') {
  /** @type {{exports: Object}} */ (module).exports = {cacheKey_, readCachedResults_, storeResults_};
}
