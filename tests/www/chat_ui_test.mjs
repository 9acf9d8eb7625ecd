// Browser test of the web chat (www/): playwright-core drives Debian's headless Chromium against a
// real `smolbot serve` on the synthetic tiny model (random weights, so answers are gibberish).
// Covers sessions (new, rename, search, delete with confirm), streaming, stop (button and Esc),
// regenerate, edit-and-resend, reload mid-answer (resume with Last-Event-ID, nothing lost),
// theme, slash palette, /quote, export, XSS payloads rendered inert, and writes screenshots.
// Exit 77 (skipped) when Chromium, node_modules, the binary or the model is missing.
//
// Screenshots go to $SMOL_SCREENSHOT_DIR (default: <tmp>/smolbot-www-screenshots); refresh the
// committed ones with SMOL_SCREENSHOT_DIR=docs/screenshots.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { startServer as startServerAt, waitHealthy } from '../support/smolbot_server.mjs';

const src = resolve(process.env.SMOL_SOURCE_DIR ?? '.');
const bin = join(process.env.SMOL_BIN_DIR ?? 'build/bin', 'smolbot');
const model = join(process.env.SMOL_MODEL_DIR ?? 'build/models', 'synth-tiny.gguf');
const chromiumPath = '/usr/bin/chromium';
const skip = (why) => {
  console.log(`SKIP: ${why}`);
  process.exit(77);
};
if (!existsSync(chromiumPath)) skip(`${chromiumPath} missing (scripts/deps.sh installs chromium)`);
if (!existsSync(join(src, 'node_modules/playwright-core'))) skip('node_modules missing (scripts/deps.sh)');
if (!existsSync(bin) || !existsSync(model)) skip(`needs ${bin} and ${model} (fixture synth_tiny)`);

const assets = spawnSync('bash', [join(src, 'scripts/www-assets.sh')], { stdio: 'inherit' });
if (assets.status !== 0) skip('scripts/www-assets.sh failed (node_modules incomplete?)');

const { chromium } = await import(join(src, 'node_modules/playwright-core/index.mjs'));
const shots = resolve(process.env.SMOL_SCREENSHOT_DIR ?? join(tmpdir(), 'smolbot-www-screenshots'));
mkdirSync(shots, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'smol-www-'));

function startServer() {
  // The tiny model's full 8k context and max_tokens 8000 (settings step): every answer here is
  // stopped by the test, and at ~350 tok/s on one thread a 4k context could fill up and end the
  // 'reload mid-answer' answer before the reload on a busy CI machine.
  return startServerAt(bin, ['--model', model, '--data-dir', dataDir, '--www', join(src, 'www'),
    '--threads', '1', '--ctx', '8192', '--slots', '2'], { cwd: src });
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const server = await startServer();
const base = server.url;
await waitHealthy(base);
const apiGet = async (path) => (await fetch(base + path)).json();
const currentId = (page) => page.evaluate(() => location.hash.slice(1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Retries an async assertion for up to 10 s (the page's PATCH may still be in flight).
async function eventually(fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 50) throw e;
      await sleep(200);
    }
  }
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pageErrors = [];
async function newPage(opts) {
  const ctx = await browser.newContext(opts);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => {
    pageErrors.push(`unexpected dialog: ${d.message()}`);
    d.dismiss();
  });
  return page;
}
const offsite = [];

// Streams until the assistant content has grown, returns its text length.
async function waitStreaming(page) {
  await page.locator('.msg.assistant.streaming').waitFor({ timeout: 60000 });
  await page.waitForFunction(() => (window.smolDebug.streamText || '').length > 20, null,
    { timeout: 60000 });
  const a = await page.evaluate(() => window.smolDebug.streamText.length);
  await page.waitForFunction((n) => (window.smolDebug.streamText || '').length > n, a,
    { timeout: 60000 });
  return a;
}
// The /quote reasoning panel, open and a few words in (for a screenshot mid-answer).
async function waitReasoning(page) {
  await page.locator('.msg.local .reasoning.live[open]').last().waitFor({ timeout: 10000 });
  await page.waitForFunction(() => {
    const r = [...document.querySelectorAll('.msg.local .reasoning.live .reasoning-body')].pop();
    return r && r.textContent.length > 110;
  }, null, { timeout: 10000 });
}
const waitIdle = (page) => page.locator('.msg.assistant.streaming').waitFor({ state: 'detached', timeout: 60000 })
  .then(() => page.locator('#send').waitFor({ state: 'visible' }));

try {
  const page = await newPage({ viewport: { width: 1280, height: 820 }, colorScheme: 'light' });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) offsite.push(r.url());
  });

  await step('page loads offline-only assets and shows the empty state', async () => {
    await page.goto(base + '/');
    await page.locator('body.ready').waitFor();
    assert.equal(await page.locator('.empty-state').count(), 1);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    for (const g of ['htmx', 'marked', 'DOMPurify', 'hljs']) {
      assert.ok(await page.evaluate((n) => typeof window[n] !== 'undefined', g), `${g} loaded`);
    }
    assert.ok(await page.evaluate(() => !!htmx.ext || true));
    const html = readFileSync(join(src, 'www/index.html'), 'utf8');
    assert.ok(!/https?:\/\//.test(html.replace(/<meta[^>]*>/g, '')), 'no absolute URLs in index.html');
  });

  await step('every control has an accessible name', async () => {
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, textarea, summary')]
      .filter((e) => e.offsetParent !== null || e.closest('dialog'))
      .filter((e) => {
        const label = e.getAttribute('aria-label') || e.textContent.trim() ||
          (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label');
        return !label;
      }).map((e) => e.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    assert.equal(await page.locator('#prompt').getAttribute('role'), 'combobox');
  });

  await step('new chat creates a session in the sidebar', async () => {
    await page.click('#new-chat');
    await page.locator('.session.current').waitFor();
    const list = await apiGet('/api/sessions');
    assert.equal(list.sessions.length, 1);
    assert.equal(await currentId(page), list.sessions[0].id);
  });

  await step('settings panel saves sampling and max tokens', async () => {
    await page.click('#open-settings');
    await page.fill('[name=max_tokens]', '8000');
    await page.fill('[name=temperature]', '0.9');
    await page.fill('[name=top_k]', '40');
    await page.fill('[name=seed]', '7');
    await page.fill('[name=system_prompt]', 'You are terse.');
    await page.click('#settings button[value=save]');
    await page.waitForFunction(() => !document.querySelector('#settings').open);
    const id = await currentId(page);
    await eventually(async () => {
      const s = await apiGet(`/api/sessions/${id}`);
      assert.equal(s.settings.max_tokens, 8000);
      assert.equal(s.settings.sampling.top_k, 40);
      assert.equal(s.settings.sampling.seed, 7);
      assert.equal(s.settings.system_prompt, 'You are terse.');
    });
    // Random weights sample an end-of-turn token now and then (2 of 40 seeded answers ended
    // within 850 tokens, i.e. ~2.5 s); the steps below stop every answer themselves, so an
    // answer that ends on its own would fail them. Not a UI setting: set through the API.
    const r = await fetch(`${base}/api/sessions/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sampling: { ignore_eos: true } }),
    });
    assert.equal(r.status, 200);
    assert.equal((await apiGet(`/api/sessions/${id}`)).settings.sampling.top_k, 40);
  });

  await step('send streams tokens; Esc stops; answer stored as stopped', async () => {
    await page.fill('#prompt', 'Hello there, tiny model');
    await page.press('#prompt', 'Enter');
    const before = await waitStreaming(page);
    assert.ok(before > 0);
    assert.equal(await page.locator('.msg.assistant .content[aria-live=polite]').count(), 1);
    assert.ok(await page.locator('#stop').isVisible());
    await page.screenshot({ path: join(shots, 'desktop-light-streaming.png') });
    await page.keyboard.press('Escape');
    await waitIdle(page);
    const s = await apiGet(`/api/sessions/${await currentId(page)}`);
    assert.equal(s.messages.length, 2);
    assert.equal(s.messages[1].status, 'stopped');
    assert.equal(s.messages[1].content, await page.evaluate(() => window.smolDebug.lastStreamText));
    assert.match(await page.locator('.msg.assistant .msg-stats').innerText(), /tokens · TTFT \d+ ms · [\d.]+ tok\/s/);
    assert.match(await page.locator('#ctx-meter .ctx-label').innerText(), /^\d+ \/ 8192$/);
    assert.equal(s.title, 'Hello there, tiny model');
  });

  await step('regenerate answers again (stop button)', async () => {
    await page.click('button[aria-label="Regenerate answer"]');
    await waitStreaming(page);
    await page.click('#stop');
    await waitIdle(page);
    const s = await apiGet(`/api/sessions/${await currentId(page)}`);
    assert.equal(s.messages.length, 2);
    assert.equal(s.messages[1].content, await page.evaluate(() => window.smolDebug.lastStreamText));
  });

  await step('edit and resend replaces the user message and the answer', async () => {
    await page.click('button[aria-label="Edit and resend"]');
    await page.fill('.edit-input', 'An edited question');
    await page.click('text=Save & send');
    await waitStreaming(page);
    await page.click('#stop');
    await waitIdle(page);
    const s = await apiGet(`/api/sessions/${await currentId(page)}`);
    assert.equal(s.messages.length, 2);
    assert.equal(s.messages[0].content, 'An edited question');
    assert.equal(await page.locator('.msg.user .content').innerText(), 'An edited question');
  });

  await step('reload mid-answer resumes the stream with Last-Event-ID and loses nothing', async () => {
    await page.fill('#prompt', 'Tell me a long story');
    await page.press('#prompt', 'Enter');
    await waitStreaming(page);
    const seen = await page.evaluate(() => window.smolDebug.streamText);
    const resumed = [];
    page.on('request', (r) => {
      if (r.url().includes('/events')) resumed.push(r.url());
    });
    await page.reload();
    await page.locator('body.ready').waitFor();
    await page.locator('.msg.assistant.streaming').waitFor({ timeout: 30000 });
    await page.waitForFunction((n) => (window.smolDebug.streamText || '').length > n, seen.length,
      { timeout: 60000 });
    const after = await page.evaluate(() => window.smolDebug.streamText);
    assert.ok(after.startsWith(seen), 'text before the reload is kept');
    assert.ok(resumed.some((u) => /last_event_id=gen-[^&]+%3A\d+/.test(u)), `resumed with an id: ${resumed}`);
    // A second tab has no cached text: it replays the whole log from the start.
    const other = await newPage({ viewport: { width: 1000, height: 700 } });
    await other.goto(`${base}/#${await currentId(page)}`);
    await other.locator('body.ready').waitFor();
    await other.locator('.msg.assistant.streaming').waitFor({ timeout: 30000 });
    await page.click('#stop');
    await waitIdle(page);
    await waitIdle(other);
    const s = await apiGet(`/api/sessions/${await currentId(page)}`);
    const stored = s.messages[s.messages.length - 1].content;
    assert.equal(await page.evaluate(() => window.smolDebug.lastStreamText), stored,
      'streamed text across the reload equals the stored answer');
    assert.equal(await other.evaluate(() => window.smolDebug.lastStreamText), stored,
      'a full replay in another tab equals the stored answer');
    await other.context().close();
  });

  await step('slash palette filters, navigates and runs /help', async () => {
    await page.fill('#prompt', '/');
    await page.locator('#palette').waitFor();
    assert.equal(await page.locator('.palette-item').count(), 9);
    await page.fill('#prompt', '/ex');
    assert.equal(await page.locator('.palette-item').count(), 1);
    assert.equal(await page.locator('.palette-item .cmd').innerText(), '/export');
    await page.fill('#prompt', '/');
    await page.press('#prompt', 'ArrowDown');
    assert.equal(await page.locator('.palette-item[aria-selected=true] .cmd').innerText(), '/no_think');
    await page.press('#prompt', 'Escape');
    assert.ok(await page.locator('#palette').isHidden());
    await page.fill('#prompt', '/he');
    await page.press('#prompt', 'Enter');
    await page.locator('#help[open]').waitFor();
    await page.screenshot({ path: join(shots, 'desktop-light-help.png') });
    await page.click('#help button[value=ok]');
  });

  await step('/no_think and /think toggle the session setting', async () => {
    await page.fill('#prompt', '/no_think');
    await page.press('#prompt', 'Enter');
    await page.waitForFunction(() => !document.querySelector('#thinking-toggle').checked);
    const id = await currentId(page);
    await eventually(async () => assert.equal((await apiGet(`/api/sessions/${id}`)).settings.thinking, false));
    await page.fill('#prompt', '/think');
    await page.press('#prompt', 'Enter');
    await eventually(async () => assert.equal((await apiGet(`/api/sessions/${id}`)).settings.thinking, true));
  });

  await step('export as Markdown and JSON', async () => {
    const id = await currentId(page);
    let dl = page.waitForEvent('download');
    await page.click('summary[aria-label="Export chat"]');
    await page.click('[data-export=json]');
    const json = JSON.parse(readFileSync(await (await dl).path(), 'utf8'));
    assert.equal(json.id, id);
    assert.ok(json.messages.length >= 4);
    dl = page.waitForEvent('download');
    await page.fill('#prompt', '/export md');
    await page.press('#prompt', 'Enter');
    const d = await dl;
    assert.match(d.suggestedFilename(), /\.md$/);
    const md = readFileSync(await d.path(), 'utf8');
    assert.ok(md.startsWith('# '));
    assert.ok(md.includes('## User') && md.includes('An edited question'));
  });

  await step('/quote streams through the page with a reasoning panel', async () => {
    await page.waitForFunction(() => !document.querySelector('.toast'), null, { timeout: 10000 });
    await page.fill('#prompt', '/quote');
    await page.press('#prompt', 'Enter');  // palette fills "/quote "
    await page.press('#prompt', 'Enter');  // runs it
    await waitReasoning(page);
    await page.screenshot({ path: join(shots, 'desktop-light-reasoning.png') });
    await page.locator('.msg.local .content blockquote').waitFor({ timeout: 20000 });
    assert.equal(await page.locator('.msg.local .reasoning').getAttribute('open'), null);
    await waitIdle(page);
    assert.match(await page.locator('.msg.local .reasoning summary').innerText(), /^Thought for \d+ s$/);
    assert.match(await page.locator('.msg.local .msg-stats').innerText(), /tokens/);
  });

  await step('theme toggle switches to dark and persists', async () => {
    await page.click('#theme-toggle');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.reload();
    await page.locator('body.ready').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.screenshot({ path: join(shots, 'desktop-dark-chat.png') });
    await page.fill('#prompt', '/quote');
    await page.press('#prompt', 'Enter');
    await page.press('#prompt', 'Enter');
    await waitReasoning(page);
    await page.screenshot({ path: join(shots, 'desktop-dark-reasoning.png') });
    await waitIdle(page);
    await page.click('#theme-toggle');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  });

  const payloadImg = '<img src=x onerror="window.__xss=1">';
  const payloadLink = '<a href="javascript:window.__xss=2">raw link</a>';

  await step('XSS in a session title is shown as text', async () => {
    const id = await currentId(page);
    await page.click(`.session[data-id="${id}"] button[aria-label^=Rename]`);
    await page.fill('.rename-input', `${payloadImg}${payloadLink}`);
    await page.press('.rename-input', 'Enter');
    await page.locator(`.session[data-id="${id}"] .session-open`).waitFor();
    assert.equal(await page.locator(`.session[data-id="${id}"] .session-open`).innerText(), `${payloadImg}${payloadLink}`);
    assert.equal(await page.locator('#chat-title').innerText(), `${payloadImg}${payloadLink}`);
    assert.equal(await page.locator('#sidebar img, #chat-title img, a[href^="javascript:"]').count(), 0);
    // A plain title again, for the screenshots that follow.
    await fetch(`${base}/api/sessions/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Hello there, tiny model' }) });
  });

  await step('XSS in streamed markdown (/quote TEXT, the same handler as SSE answers) is inert', async () => {
    const text = `Look: ${payloadImg} and [a link](javascript:window.__xss=3) and ${payloadLink}\n\n` +
      '```js\nconst x = "<script>window.__xss=4</script>";\n```';
    await page.fill('#prompt', `/quote ${text}`);
    await page.press('#prompt', 'Enter');
    await waitIdle(page);
    const msg = page.locator('.msg.local').last();
    assert.equal(await msg.locator('[onerror], script, a[href^="javascript:"]').count(), 0);
    assert.equal(await msg.locator('img').count(), 1, 'the img survives without its handler');
    for (const a of await msg.locator('.content a').all()) await a.click({ modifiers: [] }).catch(() => {});
    assert.equal(await msg.locator('.code-block .copy-code').count(), 1);
    await msg.locator('.code-block .copy-code').click();
    await msg.locator('.code-block .copy-code', { hasText: 'Copied' }).waitFor({ timeout: 5000 });
    assert.ok(await msg.locator('code.hljs').count() >= 1, 'code is highlighted');
    await sleep(300);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  await step('XSS in an answer from the server stream (forged SSE via request routing) is inert', async () => {
    const id = await currentId(page);
    const body = [
      ['token', { text: `Forged ${payloadImg} ` }],
      ['token', { text: '[x](javascript:window.__xss=5) ' }],
      ['token', { text: '<a href="javascript:window.__xss=6">y</a>' }],
      ['tool_call', { id: 'call_1', name: 'get_weather<img src=x onerror="window.__xss=7">', arguments: '{"city":"Paris"}' }],
      ['done', { prompt_tokens: 1, cached_tokens: 0, generated_tokens: 3, ttft_ms: 1, tokens_per_s: 3, finish_reason: 'stop' }],
    ].map(([t, d], i) => `id: gen-forged:${i}\nevent: ${t}\ndata: ${JSON.stringify(d)}\n\n`).join('');
    await page.route(`**/api/sessions/${id}/events*`, (r) => r.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body }));
    await page.route(`**/api/sessions/${id}/regenerate`, (r) => r.fulfill({ status: 202, contentType: 'application/json', body: '{"generation_id":"gen-forged"}' }));
    await page.evaluate(() => {
      window.__cards = [];
      new MutationObserver((records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            if (n.classList && n.classList.contains('tool-card')) {
              window.__cards.push({ name: n.querySelector('.tool-name').textContent,
                args: n.querySelector('.tool-args').textContent, imgs: n.querySelectorAll('img').length });
            }
          }
        }
      }).observe(document.querySelector('#messages'), { childList: true, subtree: true });
    });
    const seen = page.waitForFunction(() => (window.smolDebug.lastStreamText || '').startsWith('Forged'));
    await page.click('button[aria-label="Regenerate answer"]');
    await seen;
    await page.unroute(`**/api/sessions/${id}/events*`);
    await page.unroute(`**/api/sessions/${id}/regenerate`);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('[onerror], a[href^="javascript:"]').count(), 0);
    // The page re-renders from the store after `done`, so the card was recorded as it appeared.
    const cards = await page.evaluate(() => window.__cards);
    assert.equal(cards.length, 1);
    assert.match(cards[0].name, /^get_weather<img/);
    assert.match(cards[0].args, /"city": "Paris"/);
    assert.equal(cards[0].imgs, 0);
  });

  await step('search filters sessions; delete asks first', async () => {
    await page.click('#new-chat');
    await page.locator('.session').nth(1).waitFor();
    const before = (await apiGet('/api/sessions')).sessions.length;
    assert.equal(before, 2);
    await page.fill('#session-search', 'TINY');
    assert.equal(await page.locator('.session').count(), 1);
    await page.fill('#session-search', 'zzz-nothing');
    assert.equal(await page.locator('.session').count(), 0);
    await page.fill('#session-search', '');
    const id = await currentId(page);
    await page.click(`.session[data-id="${id}"] button[aria-label^=Delete]`);
    await page.locator('#confirm[open]').waitFor();
    await page.click('#confirm button[value=no]');
    assert.equal((await apiGet('/api/sessions')).sessions.length, 2);
    await page.click(`.session[data-id="${id}"] button[aria-label^=Delete]`);
    await page.click('#confirm button[value=yes]');
    await page.waitForFunction((sid) => !document.querySelector(`.session[data-id="${sid}"]`), id);
    assert.equal((await apiGet('/api/sessions')).sessions.length, 1);
  });

  await step('keyboard: Tab reaches the composer and Enter sends a command', async () => {
    await page.fill('#prompt', '');
    await page.locator('body').click({ position: { x: 700, y: 300 } });
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement && document.activeElement.id === 'prompt');
    }
    assert.ok(found, 'Tab reaches the message box');
    await page.keyboard.type('/stats');
    await page.keyboard.press('Enter');
    await page.locator('.toast', { hasText: 'answers' }).waitFor();
  });

  for (const theme of ['light', 'dark']) {
    await step(`phone width (375 px), ${theme}`, async () => {
      const phone = await newPage({ viewport: { width: 375, height: 740 }, colorScheme: theme, isMobile: true, hasTouch: true });
      await phone.goto(base + '/');
      await phone.locator('body.ready').waitFor();
      assert.equal(await phone.evaluate(() => document.documentElement.dataset.theme), theme);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scroll (${overflow})`);
      await phone.fill('#prompt', '/quote');
      await phone.press('#prompt', 'Enter');
      await phone.press('#prompt', 'Enter');
      await waitReasoning(phone);
      await phone.screenshot({ path: join(shots, `phone-${theme}-reasoning.png`) });
      await waitIdle(phone);
      await phone.click('#toggle-sidebar');
      await phone.locator('body.sidebar-open').waitFor();
      await sleep(300);
      await phone.screenshot({ path: join(shots, `phone-${theme}-sidebar.png`) });
      await phone.context().close();
    });
  }

  await step('no page errors and no requests off the server', async () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(offsite, []);
  });
} finally {
  await browser.close();
  server.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`screenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
