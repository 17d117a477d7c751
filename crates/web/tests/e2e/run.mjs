// End-to-end test of `sesame web` in a real Chromium (Debian's), driven by playwright-core.
//
//   node run.mjs PATH/TO/sesame [SCREENSHOT_DIR]
//
// It builds an encrypted example backup with Sesame's own builder (`sesame demo --keep`, low
// iteration counts), starts the web app on it, and walks the way a person would, by keyboard
// where a person could: open the backup, a wrong password, what they remember, the plan, the
// search, the password, the decrypted copy, the export, the keychain, Quit. It checks the
// files on disk and that the server refuses requests without its token. Exit code 0 only when
// every check passed.

import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const sesame = process.argv[2];
const shots = process.argv[3] || null;
if (!sesame || !existsSync(sesame)) {
  console.error('usage: node run.mjs PATH/TO/sesame [SCREENSHOT_DIR]');
  process.exit(2);
}
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.error(`no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(2);
}
if (shots) mkdirSync(shots, { recursive: true });

const work = mkdtempSync(join(tmpdir(), 'sesame-e2e-'));
const step = (m) => console.log(`e2e: ${m}`);

// The example backup: "Anna's iPhone", password Biscuit2016 (the dog and the year she came).
// The demo remembers the password it finds in its own data folder, so the web app gets another.
const iterations = process.env.SESAME_E2E_SHA256_ITERATIONS || '5000000';
const demo = spawnSync(sesame, ['demo', '--keep', join(work, 'example'), '--sha256-iterations', iterations], {
  env: { ...process.env, SESAME_HOME: join(work, 'demo-home') },
  encoding: 'utf8',
});
assert.equal(demo.status, 0, `demo failed: ${demo.stderr}`);
const backupDir = join(work, 'example', '00008110-000A1B2C3D4E5F60');
assert.ok(existsSync(join(backupDir, 'Manifest.plist')));

const out = join(work, 'out');
const server = spawn(sesame, ['web', '--no-open', '--no-default-roots', '--root', backupDir,
  '--out-dir', out, '--measure-ms', '100', '--cpu-only'], {
  env: { ...process.env, SESAME_HOME: join(work, 'web-home') },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
server.stderr.on('data', (d) => { stderr += d; });
const url = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (d) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl >= 0) resolve(buf.slice(0, nl).trim());
  });
  server.on('exit', (c) => reject(new Error(`sesame web exited (${c}): ${stderr}`)));
  setTimeout(() => reject(new Error('no URL from sesame web within 30 s')), 30000);
});
step(`server at ${url.replace(/token=.*/, 'token=…')}`);
assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
const origin = new URL(url).origin;

// Without the token nothing is served; with a wrong one neither.
let r = await fetch(origin + '/');
assert.equal(r.status, 401, 'a page without the token');
r = await fetch(origin + '/api/backups');
assert.equal(r.status, 401, 'the API without the token');
r = await fetch(origin + '/?token=' + '0'.repeat(64));
assert.equal(r.status, 403, 'a wrong token');
r = await fetch(origin + '/api/quit', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' }, body: '{}' });
assert.equal(r.status, 401, 'a cross-site POST without the cookie');

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const shot = async (name) => { if (shots) await page.screenshot({ path: join(shots, name + '.png'), fullPage: true }); };

  // Presses Tab until the focused element's text contains `text`, then Enter: what a person
  // without a mouse does.
  const tabTo = async (text, press = 'Enter') => {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const t = await page.evaluate(() => (document.activeElement && document.activeElement.textContent) || '');
      if (t.includes(text)) { if (press) await page.keyboard.press(press); return; }
    }
    throw new Error(`no focusable element with "${text}" reached by Tab`);
  };

  await page.goto(url);
  // The token left the address bar; the cookie holds the session, out of the page's reach.
  assert.equal(page.url(), origin + '/');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  await page.waitForSelector('#screen-list:not([hidden])');
  const card = page.locator('#backups .card');
  await assert.doesNotReject(card.first().waitFor());
  assert.match(await card.first().textContent(), /Anna's iPhone/);
  assert.match(await card.first().textContent(), /Encrypted\s*yes/);
  await shot('1-backups');
  step('list shows the backup');

  await tabTo('Open this backup');
  await page.waitForSelector('#screen-backup:not([hidden])');
  await page.waitForFunction(() => /guesses a second/.test(document.getElementById('cost').textContent));
  step('backup screen: ' + (await page.textContent('#cost')));

  // A wrong password: said plainly, nothing else changes.
  await page.focus('#try-password');
  await page.keyboard.type('Biscuit2015');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /not it/.test(document.getElementById('try-result').textContent));
  await shot('2-backup');
  step('wrong password refused');

  await tabTo("I don't remember it");
  await page.waitForSelector('#screen-remember:not([hidden])');
  // Keyboard only: the names field has focus after a Tab from the heading.
  await page.focus('#in-names');
  await page.keyboard.type('Rex, Luna');
  await page.keyboard.press('Enter');
  await page.keyboard.type('biscuit');
  await page.keyboard.press('Enter');
  const names = await page.$$eval('[data-field=names] .chip', (cs) => cs.map((c) => c.dataset.value));
  assert.deepEqual(names, ['Rex', 'Luna', 'biscuit'], 'comma-separated answers are several answers');
  await page.focus('#in-dates');
  // A date may hold a comma: it stays one answer (removed again, to keep the plan small).
  await page.keyboard.type('March 17, 1985');
  await page.keyboard.press('Enter');
  const dates = await page.$$eval('[data-field=dates] .chip', (cs) => cs.map((c) => c.dataset.value));
  assert.deepEqual(dates, ['March 17, 1985'], 'a date with a comma is one answer');
  await page.click('[data-field=dates] .chip .remove');
  await page.focus('#in-dates');
  await page.keyboard.type('12/04/2016');
  await page.keyboard.press('Enter');
  await page.focus('#in-passcodes');
  await page.keyboard.type('2580');
  await page.keyboard.press('Enter');
  await shot('3-remember');
  await tabTo('See the plan');
  await page.waitForSelector('#screen-plan:not([hidden])', { timeout: 60000 });
  const stages = await page.$$eval('#plan-stages tr', (rs) => rs.map((r) => r.textContent));
  assert.ok(stages.length >= 2, `plan stages: ${stages}`);
  assert.match(await page.textContent('#plan-total'), /guesses/);
  await shot('4-plan');
  step(`plan: ${stages.length} stages`);

  await tabTo('Start the search');
  // The password is about the 100th guess: some seconds at this iteration count, time enough
  // to watch the progress, pause and resume.
  await page.waitForSelector('#screen-search:not([hidden])');
  await page.waitForFunction(() => /Tried/.test(document.getElementById('search-facts').textContent) &&
    /CPU: (?!0\.0* |0 )\d[\d.,]* guesses a second/.test(document.getElementById('search-facts').textContent), null, { timeout: 60000 });
  await page.click('#pause');
  await page.waitForFunction(() => /Paused/.test(document.getElementById('search-state').textContent));
  assert.ok(await page.isVisible('#resume'), 'Resume is offered while paused');
  await shot('5-search');
  // Closing the page loses nothing: a new page finds the search still there.
  await page.reload();
  await page.waitForSelector('#screen-search:not([hidden])');
  await page.waitForFunction(() => /Paused/.test(document.getElementById('search-state').textContent));
  step('paused, and still paused after the page was reloaded');
  await page.click('#resume');
  // Generous: a loaded 2-core machine also runs the browser.
  await page.waitForSelector('#screen-found:not([hidden])', { timeout: 600000 });
  step('password found');
  assert.equal(await page.textContent('#password-box'), '••••••••', 'hidden until asked');
  await page.click('#show-password');
  await page.waitForFunction(() => document.getElementById('password-box').textContent === 'Biscuit2016');
  await page.click('#show-password');
  await shot('6-found');

  // The decrypted copy.
  await page.click('#do-decrypt');
  await page.waitForFunction(() => /is ready in|failed|stopped/.test(document.getElementById('job-state').textContent), null, { timeout: 120000 });
  assert.match(await page.textContent('#job-state'), /is ready in/);
  const copy = join(out, "Anna's iPhone decrypted");
  assert.ok(existsSync(join(copy, 'Manifest.db')), 'the decrypted copy has its Manifest.db');
  assert.ok(!existsSync(join(copy, '.sesame-unfinished')), 'the decrypted copy is marked complete');
  const manifest = readFileSync(join(copy, 'Manifest.plist'));
  assert.ok(manifest.includes('IsEncrypted'), 'the copy has a Manifest.plist');
  // The copy really reads: sesame files lists the example's photo without any password.
  const files = spawnSync(sesame, ['files', copy], { encoding: 'utf8' });
  assert.equal(files.status, 0, files.stderr);
  assert.match(files.stdout, /IMG_0001\.HEIC/);
  step('decrypted copy written and readable');

  // The export.
  await page.click('#do-export');
  await page.waitForFunction(() => /Messages, contacts and photos (is ready|failed|was stopped)/.test(document.getElementById('job-state').textContent), null, { timeout: 120000 });
  assert.match(await page.textContent('#job-state'), /is ready in/);
  const exp = join(out, "Anna's iPhone messages and photos");
  assert.ok(existsSync(join(exp, 'index.html')), `the export has index.html (${readdirSync(exp)})`);
  // "Open them here": the export's page in a new tab, served by Sesame.
  const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#job-lines a')]);
  await tab.waitForLoadState();
  assert.match(await tab.title() + (await tab.textContent('body')), /Photo/i);
  await tab.close();
  step('export written, and opens in the browser');

  // The keychain: the Wi-Fi password, shown only when asked.
  await page.click('#do-keychain');
  await page.waitForSelector('#keychain:not([hidden])');
  const rows = page.locator('#keychain-items tr', { hasText: 'Home-WiFi' });
  assert.equal(await rows.count(), 1, 'the Wi-Fi network is listed');
  assert.ok(!(await rows.first().textContent()).includes('CorgiCastle42'), 'hidden until asked');
  await rows.first().locator('button').click();
  assert.match(await rows.first().textContent(), /CorgiCastle42/);
  await shot('7-keychain');
  step('keychain shows the Wi-Fi password');

  assert.deepEqual(errors, [], 'no script or CSP errors in the page');

  await page.click('#quit');
  await page.waitForSelector('#screen-bye:not([hidden])');
  const code = await new Promise((resolve) => {
    if (server.exitCode !== null) resolve(server.exitCode);
    server.on('exit', resolve);
    setTimeout(() => resolve('still running'), 15000);
  });
  assert.equal(code, 0, 'Quit stops the server');
  step('Quit stopped the server');
} catch (e) {
  failed = e;
} finally {
  await browser.close();
  if (server.exitCode === null) server.kill();
}
if (failed) {
  console.error('e2e: FAILED:', failed.message || failed);
  console.error(stderr);
  process.exit(1);
}
// Nothing secret in what the server printed.
assert.ok(!stderr.includes('Biscuit2016'), 'the password is not in the server output');
console.log('e2e: all checks passed');
