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
  assert.equal(allowed('https://europe-west1-demo.cloudfunctions.net/pronto/enrich', gas.manifest.urlFetchWhitelist), true);
  assert.equal(allowed('https://pronto-abc123-ew.a.run.app/enrich', gas.manifest.urlFetchWhitelist), true);
  assert.equal(allowed('https://cloudfunctions.net.evil.com/x', gas.manifest.urlFetchWhitelist), false);
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
  assert.deepEqual(gas.execute('custom', 'SLEEPY_', [20]), {value: 'done', error: null, killed: false});
  const sleeper = gas.execute('custom', 'SLEEPY_', [31]);
  assert.deepEqual([sleeper.killed, sleeper.error], [true, 'Exceeded maximum execution time'], 'a catch does not save it');
  assert.equal(gas.execute('script', 'SLEEPY_', [31]).value, 'done', 'menu and sidebar code has 6 minutes');
});

test('HtmlService templates run their scriptlets in the script\'s scope, escape <?= ?>, and refuse what the fake does not model', () => {
  const gas = new AppsScript();
  const {compileTemplate} = require('../support/fake_services');
  const run = (source, data = {}) => gas.evaluate(compileTemplate('Page', source), data, 'Page');

  const source = '<ul><? for (var i = 0; i < items.length; i++) { ?><li><?= items[i] ?></li><? } ?></ul>' +
      '<?!= "<b>" + SIDEBAR_CHUNK_ROWS + "</b>" ?>';
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
