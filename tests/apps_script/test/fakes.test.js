'use strict';
// The fakes behave as the Apps Script documentation says, so code that passes here respects Google's limits.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const {test} = require('node:test');
const {spawn} = require('node:child_process');
const vm = require('node:vm');
const {AppsScript} = require('../support/apps_script');
const {freePort} = require('../support/servers');

test('UrlFetchApp throws on an HTTP error unless muteHttpExceptions, and refuses URLs outside the manifest allowlist', async (t) => {
  // A server in another process: the fake's fetch blocks this thread.
  const port = await freePort();
  const server = spawn(process.execPath, ['-e', `
    require('node:http').createServer((q, r) => { r.writeHead(q.url === '/ok' ? 200 : 401, {'X-Answer': 'yes'}); r.end(q.url); })
      .listen(${port}, '127.0.0.1', () => console.log('ready'));`], {stdio: ['ignore', 'pipe', 'inherit']});
  t.after(() => server.kill());
  await new Promise((resolve) => server.stdout.once('data', resolve));
  const gas = new AppsScript();
  const fetch = gas.context.UrlFetchApp.fetch;
  const base = `http://127.0.0.1:${port}`;

  const ok = fetch(`${base}/ok`);
  assert.equal(ok.getResponseCode(), 200);
  assert.equal(ok.getContentText(), '/ok');
  assert.equal(ok.getHeaders()['X-Answer'], 'yes');
  assert.throws(() => fetch(`${base}/no`), {message: `Exception: Request failed for ${base}/no returned code 401. Truncated server response: /no (use muteHttpExceptions option to examine full response)`});
  assert.equal(fetch(`${base}/no`, {muteHttpExceptions: true}).getResponseCode(), 401);
  assert.throws(() => fetch('https://evil.example.com/enrich'), /not allowed by the urlFetchWhitelist/);
  const allowed = require('../support/fake_services').allowedByManifest;
  const wildcards = ['https://*.cloudfunctions.net/', 'https://*.run.app/'];
  assert.equal(allowed('https://europe-west1-demo.cloudfunctions.net/pronto/enrich', wildcards), true);
  assert.equal(allowed('https://pronto-abc123-ew.a.run.app/enrich', wildcards), true);
  assert.equal(allowed('https://cloudfunctions.net.evil.com/x', wildcards), false);
  assert.equal(allowed('https://europe-west1-demo.cloudfunctions.net/other/enrich', ['https://europe-west1-demo.cloudfunctions.net/pronto/']), false);
});

test('CacheService refuses keys over 250 characters, values over 100 KB, expiry over 6 hours, and keeps 900 of 1,001 items', () => {
  const cache = new AppsScript().documentCache;
  assert.throws(() => cache.put('k'.repeat(251), 'v'), /Argument too large: key/);
  assert.throws(() => cache.put('k', 'v'.repeat(100 * 1024 + 1)), /Argument too large: value/);
  assert.throws(() => cache.put('k', 'v', 21601), /expirationInSeconds/);
  const many = Object.fromEntries(Array.from({length: 1001}, (unused, i) => [`k${i}`, 'v']));
  cache.putAll(many, 600);
  assert.equal(cache.items.size, 900);
});

test('Utilities.computeDigest returns signed bytes like Apps Script, and a custom function is stopped at 30 seconds', () => {
  const gas = new AppsScript();
  const digest = gas.context.Utilities.computeDigest('SHA_256', 'abc', 'UTF_8');
  assert.deepEqual(Buffer.from(digest.map((b) => b & 0xff)).toString('hex'), crypto.createHash('sha256').update('abc').digest('hex'));
  assert.ok(digest.some((b) => b < 0));

  // Time passes on the script's clock only: Utilities.sleep moves it without waiting.
  vm.runInContext('function SLEEPY_(seconds) { try { Utilities.sleep(seconds * 1000); } catch (e) { return "caught"; } return "done"; }', gas.context);
  const slept = gas.execute('custom', 'SLEEPY_', [20]);
  assert.deepEqual([slept.value, slept.error, slept.killed], ['done', null, false]);
  assert.ok(slept.ms >= 20000 && slept.ms < 21000, 'twenty seconds passed on the script\'s clock, not in real time');
  const sleeper = gas.execute('custom', 'SLEEPY_', [31]);
  assert.deepEqual([sleeper.killed, sleeper.error], [true, 'Exceeded maximum execution time'], 'a catch does not save it');
  assert.equal(gas.execute('script', 'SLEEPY_', [31]).value, 'done', 'menu and sidebar code has 6 minutes');
});

test('HtmlService templates run their scriptlets in the script\'s scope, escape <?= ?>, and refuse what the fake does not model', () => {
  const gas = new AppsScript();
  const {compileTemplate} = require('../support/fake_services');
  const run = (source, data = {}) => gas.evaluate(compileTemplate('Page', source), data, 'Page');

  const source = '<ul><? for (var i = 0; i < items.length; i++) { ?><li><?= items[i] ?></li><? } ?></ul>' +
      '<?!= "<b>" + RUN_CHUNK_ROWS + "</b>" ?>';
  assert.equal(run(source, {items: ['Tom & "Jerry"', '<i>']}),
      '<ul><li>Tom &#38; &#34;Jerry&#34;</li><li>&#60;i&#62;</li></ul><b>50</b>');
  const template = gas.context.HtmlService.createTemplateFromFile('Settings');
  assert.equal(template.getRawContent().includes("<?!= include_('Shared') ?>"), true);
  assert.equal(template.evaluate().getContent().includes('<?'), false, 'no scriptlet is left in the page');

  assert.throws(() => run('<p>\n<?= name'), {message: 'fake HtmlService: Page.html line 2: "<?" is never closed by "?>".'});
  assert.throws(() => run('<script>var n = <?= count ?>;</script>', {count: 1}), /line 1: "<\?=" inside a tag, <script> or <style> needs contextual escaping/);
  assert.throws(() => run('<a href="<?= url ?>">', {url: 'x'}), /contextual escaping/);
  assert.throws(() => run('<? if ( ?>'), /the scriptlets of Page.html are not valid JavaScript/);
  assert.throws(() => run('<?= missing ?>'), /missing is not defined/);
});

/** Adds test-only functions to the script's global scope. */
function define(gas, source) {
  vm.runInContext(source, gas.context);
}

test('triggers belong to who created them: others cannot see or delete them; 20 per user; minutes and hours as Apps Script allows', () => {
  const gas = new AppsScript();
  define(gas, `function MAKE_(minutes) { return ScriptApp.newTrigger('TICK_').timeBased().everyMinutes(minutes).create().getUniqueId(); }
    function MINE_() { return ScriptApp.getProjectTriggers().map(function(t) { return t.getUniqueId(); }); }
    function DROP_(id) { ScriptApp.deleteTrigger({getUniqueId: function() { return id; }}); }`);

  const id = gas.callAs('alice@example.com', 'MAKE_', 1);

  assert.deepEqual(gas.callAs('alice@example.com', 'MINE_'), [id]);
  assert.deepEqual(gas.callAs('bob@example.com', 'MINE_'), [], 'installable triggers page: "a given account cannot see triggers installed from a second account"');
  assert.throws(() => gas.callAs('bob@example.com', 'DROP_', id), /No such trigger/);
  assert.throws(() => gas.callAs('alice@example.com', 'MAKE_', 2), /Invalid argument: minutes/);
  for (let i = 1; i < 20; i++) gas.callAs('alice@example.com', 'MAKE_', 5);
  assert.throws(() => gas.callAs('alice@example.com', 'MAKE_', 5), /too many triggers/, 'quotas page: 20 triggers per user per script');
  assert.equal(gas.execute('custom', 'MAKE_', [1]).error.includes('You do not have permission to call ScriptApp.newTrigger'), true);
});

test('an add-on gets time-driven triggers hourly at most, and one of each type per user and document', () => {
  const gas = new AppsScript({addon: true});
  define(gas, `function EVERY_(unit, n) { var b = ScriptApp.newTrigger('TICK_').timeBased(); return (unit === 'm' ? b.everyMinutes(n) : b.everyHours(n)).create().getUniqueId(); }`);

  assert.throws(() => gas.call('EVERY_', 'm', 30), /more often than once per hour/);
  gas.call('EVERY_', 'h', 1);
  assert.throws(() => gas.call('EVERY_', 'h', 2), /only one trigger of each type, per user, per document/);
  gas.callAs('bob@example.com', 'EVERY_', 'h', 1);
  assert.equal(gas.triggers.length, 2);
});

test('the clock fires each trigger at its time, as its owner, and stops a user\'s triggers once the day\'s trigger runtime is used', () => {
  const gas = new AppsScript();
  define(gas, `function TICK_(e) { Utilities.sleep(5 * 60000); return Session.getEffectiveUser().getEmail() + '@' + new Date().toISOString(); }
    function HOURLY_() { return ScriptApp.newTrigger('TICK_').timeBased().everyHours(1).create().getUniqueId(); }`);
  gas.callAs('alice@example.com', 'HOURLY_');
  const created = gas.clock.now();

  const runs = gas.advance(24 * 3600000);

  assert.equal(runs.length, 24);
  const done = runs.filter((run) => !run.error);
  assert.equal(done.length, 18, '18 runs of 5 minutes use the 90 minutes a consumer account gets');
  assert.ok(done.every((run) => run.value.startsWith('alice@example.com@')), 'each ran as its owner');
  assert.ok(Math.abs(runs[0].at - created - 3600000) < 1000, 'the first an hour after it was created');
  assert.equal(runs[18].error, 'Exception: Service using too much computer time for one day. Try again later.');
  assert.equal(Math.round(gas.triggerMinutesUsed('alice@example.com')), 90);
  const later = gas.advance(2 * 3600000);
  const windowEnd = runs[0].at + 24 * 3600000;
  assert.ok(later.filter((run) => run.at < windowEnd).every((run) => run.error), 'refused until 24 hours after the first run');
  const again = later.find((run) => run.at >= windowEnd);
  assert.ok(again && !again.error, 'then the window resets and it runs again');
});

test('a daily trigger at an hour fires at that hour in the time zone given to inTimezone', () => {
  const gas = new AppsScript();
  define(gas, `function TICK_() { return Utilities.formatDate(new Date(), 'America/New_York', 'HH:mm'); }
    function DAILY_() { return ScriptApp.newTrigger('TICK_').timeBased().everyDays(1).atHour(9).inTimezone('America/New_York').create().getUniqueId(); }`);
  gas.call('DAILY_');

  const runs = gas.advance(48 * 3600000);

  assert.deepEqual(runs.map((run) => run.value), ['09:00', '09:00']);
});

test('a formula a script writes is calculated when the script ends, in its own cell, and its old spill is cleared', () => {
  const gas = new AppsScript({sheets: {Leads: [['a'], ['b'], ['c']]}});
  define(gas, `function SPILL_(n) { var cell = SpreadsheetApp.getActiveRange(); var out = []; for (var i = 0; i < n; i++) out.push([cell.getA1Notation() + '#' + i]); return out; }
    function WRITE_(formula) { SpreadsheetApp.getActiveSpreadsheet().getSheetByName('Leads').getRange('B1').setFormula(formula); return 'written'; }`);

  gas.call('WRITE_', '=SPILL_(3)');
  assert.deepEqual(gas.sheet('Leads').getRange('B1:B3').getValues().map((r) => r[0]), ['B1#0', 'B1#1', 'B1#2']);
  gas.call('WRITE_', '=SPILL_(1)');
  assert.deepEqual(gas.sheet('Leads').getRange('B1:B3').getValues().map((r) => r[0]), ['B1#0', '', '']);
  assert.equal(gas.executions.filter((e) => e.kind === 'custom').length, 2);
});

test('a custom function cannot read the person\'s User Properties; onOpen in AuthMode.NONE cannot touch properties', () => {
  const gas = new AppsScript();
  define(gas, `function MINE_() { return PropertiesService.getUserProperties().getProperty('x'); }
    function onOpenProbe_() { return PropertiesService.getDocumentProperties().getProperty('x'); }`);

  assert.match(gas.execute('custom', 'MINE_').error, /cannot read the User Properties/);
  assert.equal(gas.execute('script', 'MINE_').error, null);
  assert.match(gas.execute('simple', 'onOpenProbe_', [], {authMode: 'NONE'}).error, /not enabled in this document/);
  assert.equal(gas.execute('simple', 'onOpenProbe_', [], {authMode: 'LIMITED'}).error, null);
});
