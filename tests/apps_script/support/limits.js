'use strict';
/**
 * Google's documented Apps Script limits, one place, each with its page. The fakes read
 * them from here; docs/apps-script-fake.md lists them with the same sources. Where Google
 * documents a limit but not the exact exception text, the text is the one people report
 * (marked "reported"); where Google documents nothing, the fake's assumption is stated.
 */

const KB = 1024;
const MINUTE_MS = 60000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

const QUOTAS_PAGE = 'https://developers.google.com/apps-script/guides/services/quotas';
const CACHE_PAGE = 'https://developers.google.com/apps-script/reference/cache/cache';
const LOCK_SERVICE_PAGE = 'https://developers.google.com/apps-script/reference/lock/lock-service';
const CUSTOM_FUNCTIONS_PAGE = 'https://developers.google.com/apps-script/guides/sheets/functions';
const INSTALLABLE_PAGE = 'https://developers.google.com/apps-script/guides/triggers/installable';
const EDITOR_TRIGGERS_PAGE = 'https://developers.google.com/workspace/add-ons/concepts/editor-triggers';
const TRIGGERS_PAGE = 'https://developers.google.com/apps-script/guides/triggers';
const TROUBLESHOOTING_PAGE = 'https://developers.google.com/apps-script/guides/support/troubleshooting';

const LIMITS = Object.freeze({
  cache: Object.freeze({
    // CACHE_PAGE, put(): "The maximum length of a key is 250 characters."
    maxKeyChars: 250,
    // CACHE_PAGE, put(): "The maximum amount of data that can be stored per key is 100KB."
    maxValueBytes: 100 * KB,
    // CACHE_PAGE, put(key, value, expirationInSeconds): "The minimum is 1 second and the
    // maximum is 21600 seconds (6 hours)"; without it "the value will expire from the cache
    // after 600 seconds (10 minutes)".
    minExpirySeconds: 1,
    maxExpirySeconds: 21600,
    defaultExpirySeconds: 600,
    // CACHE_PAGE, put(): "The cap for cached items is 1,000. If more than 1,000 items are
    // written, the cache stores the 900 items farthest from expiration."
    maxItems: 1000,
    keptWhenFull: 900,
  }),
  properties: Object.freeze({
    // QUOTAS_PAGE, "Current limitations": "Properties value size 9 KB / val".
    maxValueBytes: 9 * KB,
    // QUOTAS_PAGE: "Properties total storage 500 KB / property store" (keys count too: the
    // fake sums key and value bytes, the stricter reading).
    maxStoreBytes: 500 * KB,
    // QUOTAS_PAGE, daily quotas: "Properties read/write 50,000 / day" (consumer), "500,000 /
    // day" (Google Workspace).
    readsWritesPerDay: Object.freeze({consumer: 50000, workspace: 500000}),
  }),
  urlFetch: Object.freeze({
    // QUOTAS_PAGE, daily quotas: "URL Fetch calls 20,000 / day" (consumer), "100,000 / day"
    // (Google Workspace).
    callsPerDay: Object.freeze({consumer: 20000, workspace: 100000}),
  }),
  runtime: Object.freeze({
    // CUSTOM_FUNCTIONS_PAGE: "A custom function call must return within 30 seconds. If it
    // doesn't, the cell displays #ERROR! and the cell note is Exceeded maximum execution
    // time (line 0)." QUOTAS_PAGE: "Custom function runtime 30 sec / execution".
    customFunctionMs: 30000,
    // QUOTAS_PAGE: "Script runtime 6 min / execution" (menus, sidebars, triggers).
    scriptMs: 6 * MINUTE_MS,
    // TRIGGERS_PAGE (simple triggers such as onOpen), Restrictions: "They cannot run for
    // longer than 30 seconds." (The harness's LIMITS_MS applies it.)
    simpleTriggerMs: 30000,
    // QUOTAS_PAGE: "Simultaneous executions per user 30 / user".
    simultaneousPerUser: 30,
  }),
  triggers: Object.freeze({
    // QUOTAS_PAGE: "Triggers 20 / user / script".
    perUserPerScript: 20,
    // QUOTAS_PAGE, daily quotas: "Triggers total runtime 90 min / day" (consumer), "6 hr /
    // day" (Google Workspace).
    runtimeMsPerDay: Object.freeze({consumer: 90 * MINUTE_MS, workspace: 6 * HOUR_MS}),
    // INSTALLABLE_PAGE: "(Note that an add-on can use a time-driven trigger once per hour at
    // most.)" EDITOR_TRIGGERS_PAGE, Restrictions: "Time-driven triggers cannot run more
    // frequently than once per hour."
    addonMinPeriodMs: HOUR_MS,
  }),
  // QUOTAS_PAGE: "Quotas are per user and reset 24 hours after the first request."
  quotaWindowMs: DAY_MS,
});

/** The exception texts the fakes throw (Apps Script prefixes "Exception: "). */
const MESSAGES = Object.freeze({
  // CUSTOM_FUNCTIONS_PAGE (quoted above).
  exceeded: 'Exceeded maximum execution time',
  // Reported text for a cache key or value over its limit (CACHE_PAGE gives the limits only).
  cacheKeyTooLarge: 'Exception: Argument too large: key',
  cacheValueTooLarge: 'Exception: Argument too large: value',
  // Reported text when a property value or a whole store passes its limit (QUOTAS_PAGE gives
  // the limits only; people report this sentence for both).
  propertyStorage: 'Exception: You have exceeded the property storage quota. Please remove some properties and try again.',
  // TROUBLESHOOTING_PAGE: "Service invoked too many times: <action name>", the daily form of
  // which reads "... for one day: <service>" (reported for urlfetch, properties, email).
  dailyQuota: (service) => `Exception: Service invoked too many times for one day: ${service}.`,
  // Reported text of Lock.waitLock's exception (LOCK_SERVICE_PAGE: waitLock "timing out with
  // an exception").
  lockTimeout: 'Exception: Lock timeout: another process was holding the lock for too long.',
});

module.exports = {
  LIMITS, MESSAGES, KB, MINUTE_MS, HOUR_MS, DAY_MS,
  QUOTAS_PAGE, CACHE_PAGE, LOCK_SERVICE_PAGE, CUSTOM_FUNCTIONS_PAGE, INSTALLABLE_PAGE, EDITOR_TRIGGERS_PAGE,
  TRIGGERS_PAGE, TROUBLESHOOTING_PAGE,
};
