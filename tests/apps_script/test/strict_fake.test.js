'use strict';
// The fake of Apps Script is as strict as Google's documented limits (support/limits.js):
// each test shows one limit enforced, so code that passes the other tests respects it.
const assert = require('node:assert/strict');
const {spawn} = require('node:child_process');
const {test} = require('node:test');
const vm = require('node:vm');
const {AppsScript, EXCEEDED} = require('../support/apps_script');
const {FakeGoogle} = require('../support/fake_google');
const {LIMITS, MESSAGES} = require('../support/limits');
const {freePort} = require('../support/servers');

/** Adds test-only functions to the script's global scope. */
function define(gas, source) {
  vm.runInContext(source, gas.context);
}

test('a cache value of 100 KB is kept and one byte more is refused with "Argument too large: value", counting UTF-8 bytes', () => {
  const cache = new AppsScript().documentCache;

  cache.put('fits', 'v'.repeat(100 * 1024));
  assert.throws(() => cache.put('big', 'v'.repeat(100 * 1024 + 1)), {message: 'Exception: Argument too large: value'});
  assert.throws(() => cache.put('accents', 'é'.repeat(51201)), /Argument too large: value/, '51,201 characters are 102,402 bytes');
  assert.throws(() => cache.put('k'.repeat(251), 'v'), /Argument too large: key/);
  assert.throws(() => cache.put('k', 'v', 21601), /expirationInSeconds/);
  assert.throws(() => cache.put('k', 'v', 0), /expirationInSeconds/);
  assert.throws(() => cache.put('k', 42), /don't match the method signature/, 'values are strings');
  assert.throws(() => cache.putAll({ok: 'v', big: 'v'.repeat(100 * 1024 + 1)}), /Argument too large/);
  assert.equal(cache.get('ok'), null, 'a refused putAll writes none of its pairs');
  assert.equal(cache.get('fits').length, 100 * 1024);
});

test('the 1,001st cache item makes the cache keep the 900 items farthest from expiration, putAll and getAll included', () => {
  const gas = new AppsScript();
  const cache = gas.documentCache;
  const far = Object.fromEntries(Array.from({length: 1000}, (unused, i) => [`far${i}`, 'v']));
  cache.putAll(far, 21600);
  assert.equal(cache.items.size, 1000, 'a thousand fit');

  cache.put('soon', 'v', 60);

  assert.equal(cache.get('soon'), null, 'the item nearest its expiry went first');
  assert.equal(cache.items.size, 900);
  const kept = cache.getAll(Object.keys(far));
  assert.equal(Object.keys(kept).length, 900);
  assert.equal(kept.far0, 'v', 'among equals, the oldest writes stay (Google does not say; the newest go)');
  assert.equal(kept.far999, undefined);
});

test('a cache item may vanish before its expiry (only a suggestion) and always vanishes at it', () => {
  const gas = new AppsScript();
  const cache = gas.documentCache;
  cache.putAll({a: '1', b: '2'}, 120);

  assert.equal(cache.evict((key) => key === 'a'), 1);
  assert.deepEqual(cache.getAll(['a', 'b']), {b: '2'});
  gas.clock.advance(120000);
  assert.equal(cache.get('b'), null);
});

test('a property value over 9 KB and a store over 500 KB are refused with the storage sentence, and change nothing', () => {
  const props = new AppsScript().documentProperties;

  props.setProperty('fits', 'x'.repeat(9 * 1024));
  assert.throws(() => props.setProperty('big', 'x'.repeat(9 * 1024 + 1)), {message: MESSAGES.propertyStorage});
  assert.equal(props.getProperty('big'), null);
  let n = 0;
  assert.throws(() => {
    while (n < 100) props.setProperty(`k${n++}`, 'y'.repeat(9000));
  }, {message: MESSAGES.propertyStorage});
  assert.ok(n > 50 && n < 60, `the store filled near 500 KB (${n} values of 9,000 bytes)`);
  assert.ok(props.size() <= 500 * 1024);
  const before = props.getProperties();
  assert.throws(() => props.setProperties({small: 'ok', huge: 'z'.repeat(10000)}), {message: MESSAGES.propertyStorage});
  assert.deepEqual(props.getProperties(), before, 'setProperties is all or nothing');
});

test('property reads and writes count against the user\'s 50,000 a day: the next one throws, another user is unaffected, and the day resets', () => {
  const gas = new AppsScript();
  define(gas, `function READ_() { return PropertiesService.getDocumentProperties().getProperty('x'); }`);
  gas.google.quotas.properties.preload('ann@example.com', LIMITS.properties.readsWritesPerDay.consumer - 1);

  assert.equal(gas.callAs('ann@example.com', 'READ_'), null);
  assert.throws(() => gas.callAs('ann@example.com', 'READ_'), {message: 'Exception: Service invoked too many times for one day: properties.'});
  assert.equal(gas.callAs('bob@example.com', 'READ_'), null);
  gas.clock.advance(24 * 3600000);
  assert.equal(gas.callAs('ann@example.com', 'READ_'), null, 'quotas reset 24 hours after the first request');
});

/** A server in another process (the fake's fetch blocks this thread) that answers after `delayMs`. */
async function slowServer(t, delayMs) {
  const port = await freePort();
  const server = spawn(process.execPath, ['-e', `
    require('node:http').createServer((q, r) => setTimeout(() => r.end('late'), ${delayMs}))
      .listen(${port}, '127.0.0.1', () => console.log('ready'));`], {stdio: ['ignore', 'pipe', 'inherit']});
  t.after(() => server.kill());
  await new Promise((resolve) => server.stdout.once('data', resolve));
  return `http://127.0.0.1:${port}/`;
}

test('UrlFetch calls count per user against 20,000 a day (consumer) or 100,000 (Workspace); a refused call never leaves', async (t) => {
  const url = await slowServer(t, 0);
  const google = new FakeGoogle({accounts: {'it@corp.example': 'workspace'}});
  const gas = new AppsScript({google});
  define(gas, 'function GET_(url) { return UrlFetchApp.fetch(url).getContentText(); }');
  google.quotas.urlFetch.preload('ann@example.com', 20000);
  google.quotas.urlFetch.preload('it@corp.example', 20000);

  assert.throws(() => gas.callAs('ann@example.com', 'GET_', url), {message: 'Exception: Service invoked too many times for one day: urlfetch.'});
  assert.equal(gas.fetches.length, 0, 'nothing was sent');
  assert.equal(gas.callAs('it@corp.example', 'GET_', url), 'late', 'a Workspace account has 100,000');
  assert.equal(google.quotas.urlFetch.used('it@corp.example'), 20001);
});

test('a custom function past 30 s is killed: its catch does not save it, nothing it does after has an effect, and the cell shows #ERROR!', () => {
  const gas = new AppsScript({sheets: {Leads: [['a']]}});
  define(gas, `function LATE_() {
      try { Utilities.sleep(31000); } catch (e) { /* swallowed */ }
      try { CacheService.getDocumentCache().put('after', 'written'); } catch (e) { /* swallowed */ }
      return 'answer';
    }`);
  gas.typeFormula('Leads', 'B1', '=LATE_()');

  const [outcome] = gas.recalculate('Leads');

  assert.deepEqual([outcome.killed, outcome.error, outcome.value], [true, EXCEEDED, undefined]);
  assert.equal(gas.documentCache.get('after'), null, 'the put after the kill point never happened');
  assert.equal(gas.sheet('Leads').value('B1'), '#ERROR!');
});

test('a fetch that would end after the 30 s deadline is cut there, and the execution is killed', async (t) => {
  const url = await slowServer(t, 5000);
  const gas = new AppsScript();
  define(gas, `function FETCHLATE_(url) {
      Utilities.sleep(29000);
      try { UrlFetchApp.fetch(url); } catch (e) { PropertiesService.getScriptProperties().setProperty('caught', e.message); }
      return 'done';
    }`);
  const started = Date.now();

  const result = gas.execute('custom', 'FETCHLATE_', [url]);

  assert.deepEqual([result.killed, result.error], [true, EXCEEDED]);
  assert.ok(Date.now() - started < 4000, 'the fetch waited about the one second left, not the server\'s five');
  assert.equal(gas.fetches[0].status, 'timeout');
  assert.equal(gas.scriptProperties.getProperty('caught'), null, 'its catch wrote nothing');
});

test('formulas Sheets calculates together contend for the document lock: each waits on the clock, and waitLock gives up with Google\'s sentence', () => {
  const gas = new AppsScript({sheets: {Leads: [['a'], ['b'], ['c']]}, strict: {simultaneous: true}});
  define(gas, `function HOLD_(x) {
      var started = Date.now();
      var lock = LockService.getDocumentLock();
      lock.waitLock(5000);
      Utilities.sleep(3000);
      lock.releaseLock();
      return Math.round((Date.now() - started) / 1000);
    }`);
  ['B1', 'B2', 'B3'].forEach((a1, i) => gas.typeFormula('Leads', a1, `=HOLD_(A${i + 1})`));
  const start = gas.clock.now();

  const outcomes = gas.recalculate('Leads');

  assert.deepEqual(outcomes.map((o) => o.value), [3, 6, undefined], 'the second waited 3 s for the first; the third would wait 6 s');
  assert.equal(outcomes[2].error, MESSAGES.lockTimeout);
  assert.ok(Math.abs(gas.clock.now() - start - 6000) < 1000, 'the batch ended when its last execution did');
});

test('at most 30 custom functions of a user run at once: the 31st starts when one ends', () => {
  const rows = Array.from({length: 31}, (unused, i) => [`r${i}`]);
  const gas = new AppsScript({sheets: {Leads: rows}, strict: {simultaneous: true}});
  define(gas, 'function STARTED_(x) { var at = Date.now(); Utilities.sleep(10000); return at; }');
  rows.forEach((row, i) => gas.typeFormula('Leads', `B${i + 1}`, `=STARTED_(A${i + 1})`));
  const start = gas.clock.now();

  const starts = gas.recalculate('Leads').map((o) => Math.round((o.value - start) / 1000));

  assert.deepEqual(starts, [...Array(30).fill(0), 10]);
});

test('getDocumentLock() can return null: in an add-on\'s time-driven trigger (the fake\'s assumption), or wherever a test says', () => {
  const gas = new AppsScript({addon: true, strict: {nullDocumentLock: true}});
  define(gas, `function HASLOCK_() { return LockService.getDocumentLock() === null ? 'null' : 'lock'; }
    function TIMER_() { return ScriptApp.newTrigger('HASLOCK_').timeBased().everyHours(1).create().getUniqueId(); }`);
  gas.call('TIMER_');

  assert.equal(gas.call('HASLOCK_'), 'lock', 'a sidebar or menu call runs in its document');
  assert.deepEqual(gas.advance(3600000).map((run) => run.value), ['null']);
  const custom = new AppsScript({strict: {nullDocumentLock: true}, nullDocumentLock: (execution) => execution.kind === 'custom'});
  define(custom, 'function HASLOCK_() { return LockService.getDocumentLock() === null ? "null" : "lock"; }');
  assert.equal(custom.execute('custom', 'HASLOCK_').value, 'null');
});

test('a formula recalculates when its text or a referenced value changes, not when identical text is written again, nor on open', () => {
  const gas = new AppsScript({sheets: {Leads: [['ann'], ['bob']]}, strict: {recalculation: true}});
  define(gas, `function SHOUT_(name) { return String(name).toUpperCase(); }
    function REWRITE_() {
      var cell = SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Leads').getRange('B1');
      var formula = cell.getFormula();
      cell.clearContent();
      SpreadsheetApp.flush();
      cell.setFormula(formula);
    }
    function RENAME_(name) { SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Leads').getRange('A1').setValue(name); }
    function RETYPE_(text) { SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Leads').getRange('B1').setFormula(text); }
    function onOpen() {}`);
  gas.typeFormula('Leads', 'B1', '=SHOUT_(A1)');
  gas.recalculate('Leads');
  const runs = () => gas.executions.filter((e) => e.kind === 'custom').length;
  assert.deepEqual([gas.sheet('Leads').value('B1'), runs()], ['ANN', 1]);

  gas.call('REWRITE_');
  assert.deepEqual([gas.sheet('Leads').value('B1'), runs()], ['ANN', 1], 'identical text: no recalculation, the answer stays');
  gas.open();
  assert.deepEqual(gas.recalculate('Leads'), [], 'opening recalculates nothing');
  assert.equal(runs(), 1);

  gas.call('RENAME_', 'cy');
  assert.deepEqual([gas.sheet('Leads').value('B1'), runs()], ['CY', 2], 'a referenced value changed');
  gas.call('RETYPE_', '=SHOUT_(A2)');
  assert.deepEqual([gas.sheet('Leads').value('B1'), runs()], ['BOB', 3], 'the formula text changed');
});

test('20 triggers per user per script, across all of the user\'s spreadsheets; another user has their own 20', () => {
  const google = new FakeGoogle({addon: true});
  const sheets = Array.from({length: 25}, (unused, i) => new AppsScript({google, spreadsheetId: `sheet-${i}`}));
  sheets.forEach((gas) => define(gas, "function TIMER_() { return ScriptApp.newTrigger('TICK_').timeBased().everyHours(1).create().getUniqueId(); }"));

  const made = sheets.map((gas) => {
    try {
      gas.callAs('ann@example.com', 'TIMER_');
      return 'made';
    } catch (error) {
      return error.message;
    }
  });

  assert.deepEqual(made.slice(0, 20), Array(20).fill('made'));
  assert.ok(made.slice(20).every((message) => /too many triggers/.test(message)), 'the 21st spreadsheet gets none');
  assert.equal(google.triggers.ofUser('ann@example.com').length, 20);
  sheets[24].callAs('bob@example.com', 'TIMER_');
  assert.equal(google.triggers.ofUser('bob@example.com').length, 1);
});

test('trigger runtime is counted per user across spreadsheets (90 min a day, consumer), and each trigger runs in its own spreadsheet', () => {
  const google = new FakeGoogle();
  const [a, b] = ['A', 'B'].map((id) => new AppsScript({google, spreadsheetId: id}));
  [a, b].forEach((gas) => define(gas, `function TICK_() { Utilities.sleep(5 * 60000); return SpreadsheetApp.getActiveSpreadsheet().getId(); }
    function HOURLY_() { return ScriptApp.newTrigger('TICK_').timeBased().everyHours(1).create().getUniqueId(); }`));
  a.callAs('ann@example.com', 'HOURLY_');
  b.callAs('ann@example.com', 'HOURLY_');

  const runs = google.advance(12 * 3600000);

  const done = runs.filter((run) => !run.error);
  assert.equal(done.length, 18, 'two spreadsheets, one budget: 18 runs of 5 minutes');
  assert.deepEqual(new Set(done.map((run) => `${run.spreadsheetId}=${run.value}`)), new Set(['A=A', 'B=B']));
  assert.equal(Math.round(google.triggerMinutesUsed('ann@example.com')), 90);
});

test('a trigger run is killed at 6 minutes and what it would do after never happens', () => {
  const gas = new AppsScript();
  define(gas, `function LONG_() {
      Utilities.sleep(5 * 60000);
      try { Utilities.sleep(2 * 60000); } catch (e) { /* swallowed */ }
      PropertiesService.getDocumentProperties().setProperty('finished', 'yes');
    }
    function HOURLY_() { return ScriptApp.newTrigger('LONG_').timeBased().everyHours(1).create().getUniqueId(); }`);
  gas.call('HOURLY_');

  const [run] = gas.advance(3600000);

  assert.deepEqual([run.killed, run.error], [true, EXCEEDED]);
  assert.equal(gas.documentProperties.getProperty('finished'), null);
});

test('a failed trigger run e-mails a bound script\'s owner, and nobody for an add-on', () => {
  const outcomes = [false, true].map((addon) => {
    const gas = new AppsScript({addon});
    define(gas, `function FAIL_() { throw new Error('schedule failed'); }
      function HOURLY_() { return ScriptApp.newTrigger('FAIL_').timeBased().everyHours(1).create().getUniqueId(); }`);
    gas.callAs('ann@example.com', 'HOURLY_');
    gas.advance(3600000);
    return gas.google.failureEmails.map((mail) => `${mail.to}: ${mail.error}`);
  });

  assert.deepEqual(outcomes, [['ann@example.com: schedule failed'], []]);
});

test('an execution that leaves a global changed fails the test: Apps Script starts each execution with fresh globals', () => {
  const gas = new AppsScript();
  define(gas, 'function REMEMBER_(x) { globalThis.remembered_ = x; return x; }');

  assert.throws(() => gas.call('REMEMBER_', 'extra'), /REMEMBER_ left global remembered_ changed; Apps Script starts each execution with fresh globals/);
});

test('under the recalculation rule a test can still force a recalculation (Sheets may recalculate any time), to show it costs nothing', () => {
  const gas = new AppsScript({sheets: {Leads: [['ann']]}, strict: {recalculation: true}});
  define(gas, 'function SHOUT_(name) { return String(name).toUpperCase(); }');
  gas.typeFormula('Leads', 'B1', '=SHOUT_(A1)');
  gas.recalculate('Leads');

  assert.deepEqual(gas.recalculate('Leads'), [], 'nothing changed: nothing recalculates');
  assert.deepEqual(gas.recalculate('Leads', {force: true}).map((o) => o.value), ['ANN']);
});

test('a simple trigger (onOpen) is killed at 30 seconds, not 6 minutes', () => {
  const gas = new AppsScript();
  define(gas, `function onOpen() {
      Utilities.sleep(29000);
      try { Utilities.sleep(2000); } catch (e) { /* swallowed */ }
      PropertiesService.getDocumentProperties().setProperty('opened', 'yes');
    }`);

  const opened = gas.open();

  assert.deepEqual([opened.killed, opened.error], [true, EXCEEDED]);
  assert.equal(gas.documentProperties.getProperty('opened'), null);
});

test('two editors\' calls started at once contend for the document lock: the second waits for the first on the clock', () => {
  const gas = new AppsScript();
  define(gas, `function WRITE_() {
      var started = Date.now();
      var lock = LockService.getDocumentLock();
      lock.waitLock(10000);
      Utilities.sleep(4000);
      lock.releaseLock();
      return Math.round((Date.now() - started) / 1000);
    }`);

  const outcomes = gas.google.together([() => gas.callAs('ann@example.com', 'WRITE_'), () => gas.callAs('bob@example.com', 'WRITE_')]);

  assert.deepEqual(outcomes.map((o) => o.value), [4, 8]);
});

test('a lock another process holds makes waitLock wait on the clock, then fail with Google\'s sentence', () => {
  const gas = new AppsScript();
  define(gas, 'function WAIT_() { var t = Date.now(); LockService.getScriptLock().waitLock(10000); return Math.round((Date.now() - t) / 1000); }');

  gas.google.locks.holdElsewhere('script', gas.clock.now() + 3000);
  assert.equal(gas.call('WAIT_'), 3);
  gas.google.locks.holdElsewhere('script');
  const started = gas.clock.now();
  assert.throws(() => gas.call('WAIT_'), {message: MESSAGES.lockTimeout});
  assert.ok(Math.abs(gas.clock.now() - started - 10000) < 1000, 'it waited its full 10 seconds first');
});

test('executions started together each read the store as it was at their own time: without a lock one update is lost, with one none is', () => {
  const gas = new AppsScript();
  define(gas, `function ADD_(name, locked) {
      var lock = LockService.getDocumentLock();
      if (locked) lock.waitLock(10000);
      var props = PropertiesService.getDocumentProperties();
      var cache = CacheService.getDocumentCache();
      var names = JSON.parse(props.getProperty('names') || '[]');
      var cached = JSON.parse(cache.get('names') || '[]');
      Utilities.sleep(1000);
      props.setProperty('names', JSON.stringify(names.concat([name])));
      cache.put('names', JSON.stringify(cached.concat([name])));
      if (locked) lock.releaseLock();
    }`);
  const both = (locked) => {
    gas.documentProperties.deleteProperty('names');
    gas.documentCache.remove('names');
    gas.google.together([() => gas.callAs('ann@example.com', 'ADD_', 'ann', locked), () => gas.callAs('bob@example.com', 'ADD_', 'bob', locked)]);
    return [gas.documentProperties.getProperty('names'), gas.documentCache.get('names')];
  };

  const [fromProperties, fromCache] = both(false).map((text) => JSON.parse(text));
  assert.equal(fromProperties.length, 1, `both read the empty list at the same moment: one name is lost (${fromProperties})`);
  assert.equal(fromCache.length, 1, `the same in the cache (${fromCache})`);
  gas.clock.advance(60000);
  assert.deepEqual(both(true), ['["ann","bob"]', '["ann","bob"]']);
});

test('formulas a script writes are calculated together once it ends: each starts at the same clock time', () => {
  const gas = new AppsScript({sheets: {Leads: [['a'], ['b'], ['c']]}});
  define(gas, `function STARTED_(x) { var at = Date.now(); Utilities.sleep(10000); return at; }
    function WRITE_() {
      var sheet = SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Leads');
      sheet.getRange('B1:B3').setFormulas([['=STARTED_(A1)'], ['=STARTED_(A2)'], ['=STARTED_(A3)']]);
    }`);
  const before = gas.clock.now();

  gas.call('WRITE_');

  const starts = gas.sheet('Leads').getRange('B1:B3').getValues().map((row) => row[0]);
  assert.equal(new Set(starts).size, 1, `one start time: ${starts}`);
  assert.ok(gas.clock.now() - before < 12000, 'three 10-second formulas took 10 seconds, not 30');
});
