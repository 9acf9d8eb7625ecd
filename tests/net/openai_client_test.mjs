// Drives a real `smolbot serve` process (synthetic tiny model) with the official `openai` npm
// client: non-streaming, streaming with usage, errors (400, 401); then kills the server with
// SIGKILL mid-generation and checks that a restart on the same data dir serves an intact store.
// Exit 77 (skipped) when the binary or the model is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer as startServerAt, waitHealthy } from '../support/smolbot_server.mjs';

const bin = join(process.env.SMOL_BIN_DIR ?? 'build/bin', 'smolbot');
const model = join(process.env.SMOL_MODEL_DIR ?? 'build/models', 'synth-tiny.gguf');
if (!existsSync(bin) || !existsSync(model)) {
  console.log(`SKIP: needs ${bin} and ${model} (fixture synth_tiny)`);
  process.exit(77);
}
const apiKey = 'test-key';
const dataDir = mkdtempSync(join(tmpdir(), 'smol-openai-'));

const startServer = () => startServerAt(bin, ['--model', model, '--data-dir', dataDir,
  '--api-key', apiKey, '--threads', '1', '--ctx', '1024', '--slots', '2']);

const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
let server = await startServer();
try {
  await waitHealthy(server.url);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey });
  const messages = [{ role: 'user', content: 'Hello there' }];

  // Non-streaming. A first call only fills the KV cache, so that both answers compared below
  // reuse it: a cold prefill and a cached one round differently (a batch of tokens against the
  // last one alone), which can flip a greedy near-tie on the random model, and the template
  // stamps today's date into the prompt (tests/net/server_test.cpp has the same case).
  const req = {
    model: 'smol', messages, max_tokens: 8, temperature: 0,
    chat_template_kwargs: { enable_thinking: false },
  };
  await client.chat.completions.create(req);
  const whole = await client.chat.completions.create(req);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(typeof whole.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(whole.choices[0].finish_reason));
  assert.ok(whole.usage.prompt_tokens > 0);
  assert.ok(whole.usage.completion_tokens <= 8);
  assert.ok(whole.usage.prompt_tokens_details.cached_tokens > 0, JSON.stringify(whole.usage));

  // Streaming with usage: same greedy answer, chunk by chunk.
  const stream = await client.chat.completions.create({
    model: 'smol', messages, max_tokens: 8, temperature: 0, stream: true,
    stream_options: { include_usage: true }, chat_template_kwargs: { enable_thinking: false },
  });
  let content = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice?.delta?.content) content += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.ok(usage && usage.prompt_tokens_details.cached_tokens > 0, JSON.stringify(usage));

  const models = await client.models.list();
  assert.equal(models.data.length, 1);

  // Errors surface as the client's typed errors with our status codes.
  await assert.rejects(client.chat.completions.create({ model: 'smol', messages: [] }),
    (e) => e.status === 400 && /messages/.test(e.message));
  const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong' });
  await assert.rejects(wrong.chat.completions.create({ model: 'smol', messages }),
    (e) => e.status === 401);

  // kill -9 in the middle of a session's generation.
  const s = await (await fetch(`${server.url}/api/sessions`, {
    // ignore_eos: the answer must still be running when the server is killed.
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ title: 'survivor', max_tokens: 100000, sampling: { ignore_eos: true } }),
  })).json();
  const first = await fetch(`${server.url}/api/sessions/${s.id}/messages`, {
    method: 'POST', headers: auth, body: JSON.stringify({ content: 'before the crash' }),
  });
  assert.equal(first.status, 202, await first.text());
  const events = await fetch(`${server.url}/api/sessions/${s.id}/events`, { headers: auth });
  const reader = events.body.getReader();
  await reader.read();  // at least one event: the generation is running
  server.child.kill('SIGKILL');
  await new Promise((r) => server.child.once('exit', r));

  server = await startServer();
  await waitHealthy(server.url);
  const after = await (await fetch(`${server.url}/api/sessions/${s.id}`, { headers: auth })).json();
  assert.equal(after.title, 'survivor');
  assert.equal(after.messages[0].content, 'before the crash');
  // The interrupted answer was never committed: the store holds the state before it.
  assert.equal(after.messages.length, 1, JSON.stringify(after.messages));
  const again = await fetch(`${server.url}/api/sessions/${s.id}/regenerate`, {
    method: 'POST', headers: auth,
  });
  assert.equal(again.status, 202, await again.text());
  await fetch(`${server.url}/api/sessions/${s.id}/stop`, { method: 'POST', headers: auth });
  console.log('openai client test: all checks passed');
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
