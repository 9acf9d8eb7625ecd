// SmolBot web chat: sessions sidebar, conversation, composer with slash palette, settings,
// export. State lives on the server (docs/api.md); this file only keeps what is on screen.

import { api } from './api.js';
import { el, messageView, copyText } from './render.js';
import { Stream, loadCache, clearCache, playQuote } from './stream.js';

const $ = (sel) => document.querySelector(sel);
const state = {
  sessions: [],
  current: null,  // the open session, with messages
  stream: null,   // the Stream being played into the page, if any
  nCtx: 0,
  paletteIndex: 0,
};

// ---------- toasts and dialogs ----------

function toast(text, kind = 'info') {
  const t = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
  $('#toasts').append(t);
  setTimeout(() => t.remove(), 4000);
}

function confirmDialog(text) {
  const dlg = $('#confirm');
  $('#confirm-text').textContent = text;
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'yes'), { once: true });
  });
}

// ---------- theme ----------

const media = window.matchMedia('(prefers-color-scheme: dark)');
function effectiveTheme() {
  return localStorage.getItem('smol.theme') || (media.matches ? 'dark' : 'light');
}
function applyTheme() {
  const theme = effectiveTheme();
  document.documentElement.dataset.theme = theme;
  const btn = $('#theme-toggle');
  btn.setAttribute('aria-label', theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
  btn.setAttribute('aria-pressed', theme === 'dark' ? 'true' : 'false');
  btn.textContent = theme === 'dark' ? '☀' : '☾';
}
media.addEventListener('change', applyTheme);

// ---------- sessions sidebar ----------

async function refreshSessions() {
  state.sessions = await api.listSessions();
  renderSessions();
}

function renderSessions() {
  const list = $('#session-list');
  const q = $('#session-search').value.trim().toLowerCase();
  list.textContent = '';
  const shown = state.sessions.filter((s) => !q || s.title.toLowerCase().includes(q));
  for (const s of shown) {
    const current = state.current && s.id === state.current.id;
    const open = el('button', {
      type: 'button',
      class: 'session-open',
      text: s.title,
      title: s.title,
      'aria-current': current ? 'true' : undefined,
      onclick: () => openSession(s.id),
    });
    const rename = el('button', {
      type: 'button', class: 'icon-btn small', 'aria-label': `Rename ${s.title}`, text: '✎',
      onclick: () => startRename(item, s),
    });
    const del = el('button', {
      type: 'button', class: 'icon-btn small danger', 'aria-label': `Delete ${s.title}`, text: '×',
      onclick: () => deleteSession(s),
    });
    const item = el('li', { class: `session${current ? ' current' : ''}`, 'data-id': s.id },
      open, el('span', { class: 'session-tools' }, rename, del));
    if (s.generating) item.classList.add('busy');
    list.append(item);
  }
  if (!shown.length) list.append(el('li', { class: 'empty', text: q ? 'No match' : 'No chats yet' }));
}

function startRename(item, s) {
  const input = el('input', { type: 'text', class: 'rename-input', 'aria-label': 'New title' });
  input.value = s.title;
  item.textContent = '';
  item.append(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const title = input.value.trim();
    if (save && title && title !== s.title) {
      try {
        const updated = await api.patchSession(s.id, { title });
        if (state.current && state.current.id === s.id) {
          state.current.title = updated.title;
          $('#chat-title').textContent = updated.title;
        }
      } catch (e) {
        toast(`Rename failed: ${e.message}`, 'error');
      }
    }
    await refreshSessions();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') {
      e.stopPropagation();
      finish(false);
    }
  });
  input.addEventListener('blur', () => finish(true));
}

async function deleteSession(s) {
  if (!(await confirmDialog(`Delete “${s.title}”? This cannot be undone.`))) return;
  try {
    await api.deleteSession(s.id);
  } catch (e) {
    return toast(`Delete failed: ${e.message}`, 'error');
  }
  clearCache(s.id);
  if (state.current && state.current.id === s.id) {
    detachStream();
    state.current = null;
    renderConversation();
  }
  await refreshSessions();
  if (!state.current && state.sessions.length) await openSession(state.sessions[0].id);
}

async function newSession(fields = {}) {
  const s = await api.createSession(fields);
  await refreshSessions();
  await openSession(s.id);
  closeSidebarOnPhone();
  $('#prompt').focus();
  return s;
}

// ---------- conversation ----------

function detachStream() {
  if (state.stream) {
    state.stream.disconnect();
    state.stream = null;
  }
  setBusy(false);
}

async function openSession(id) {
  detachStream();
  const s = await api.getSession(id);
  state.current = s;
  localStorage.setItem('smol.session', s.id);
  history.replaceState(null, '', `#${s.id}`);
  renderConversation();
  renderSessions();
  closeSidebarOnPhone();
  if (s.generating) attachRunningGeneration();
}

function thoughtKey(msg) {
  return `smol.thought.${state.current.id}.${msg.id}`;
}

function renderConversation() {
  const box = $('#messages');
  box.textContent = '';
  const s = state.current;
  $('#chat-title').textContent = s ? s.title : 'SmolBot';
  $('#thinking-toggle').checked = s ? s.settings.thinking : true;
  if (!s || !s.messages.length) {
    box.append(emptyState());
    updateContextMeter();
    return;
  }
  const lastAssistant = [...s.messages].reverse().find((m) => m.role === 'assistant');
  for (const m of s.messages) {
    const secs = localStorage.getItem(thoughtKey(m));
    const view = messageView(m, { reasoningLabel: secs ? `Thought for ${secs} s` : 'Reasoning' });
    if (m.role === 'user') addEditAction(view, m);
    if (m === lastAssistant) addRegenerateAction(view);
    if (m.status && m.status !== 'complete') view.root.classList.add(m.status);
    box.append(view.root);
  }
  updateContextMeter();
  scrollToEnd(true);
}

function emptyState() {
  return el('div', { class: 'empty-state' },
    el('div', { class: 'logo', 'aria-hidden': 'true', text: '◍' }),
    el('h2', { text: 'How can I help?' }),
    el('p', { text: 'Type a message, or / for commands. Try /quote to see streaming without the model.' }));
}

function addEditAction(view, m) {
  view.actions.append(el('button', {
    type: 'button', class: 'chip', text: 'Edit', 'aria-label': 'Edit and resend',
    onclick: () => startEdit(view, m),
  }));
}

function addRegenerateAction(view) {
  view.actions.append(el('button', {
    type: 'button', class: 'chip', text: 'Regenerate', 'aria-label': 'Regenerate answer',
    onclick: () => regenerate(),
  }));
}

function startEdit(view, m) {
  if (state.stream) return toast('Wait for the answer or stop it first');
  const ta = el('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 3 });
  ta.value = m.content;
  const save = el('button', { type: 'button', class: 'btn accent', text: 'Save & send' });
  const cancel = el('button', { type: 'button', class: 'btn', text: 'Cancel' });
  const form = el('div', { class: 'edit-form' }, ta, el('div', { class: 'edit-bar' }, cancel, save));
  view.bubble.replaceChildren(form);
  ta.focus();
  cancel.onclick = () => renderConversation();
  const submit = async () => {
    const text = ta.value.trim();
    if (!text) return;
    try {
      await api.editMessage(state.current.id, m.id, text);
    } catch (e) {
      return toast(`Edit failed: ${e.message}`, 'error');
    }
    m.content = text;
    // Everything after the edited message is gone on the server; mirror that.
    const idx = state.current.messages.indexOf(m);
    state.current.messages.splice(idx + 1);
    renderConversation();
    startAssistant();
  };
  save.onclick = submit;
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
    if (e.key === 'Escape') {
      e.stopPropagation();
      renderConversation();
    }
  });
}

function scrollToEnd(force = false) {
  const box = $('#messages');
  const near = box.scrollHeight - box.scrollTop - box.clientHeight < 160;
  if (force || near) box.scrollTop = box.scrollHeight;
}

function setBusy(busy) {
  $('#stop').hidden = !busy;
  $('#send').hidden = busy;
  document.body.classList.toggle('busy', busy);
}

// Adds an empty assistant message and returns its Stream (not yet connected).
function newAssistantStream(opts = {}) {
  const box = $('#messages');
  box.querySelector('.empty-state')?.remove();
  const view = messageView({ role: 'assistant', content: '', reasoning: '' }, { streaming: true });
  box.append(view.root);
  scrollToEnd(true);
  const s = state.current;
  const stream = new Stream(view, {
    sessionId: opts.local ? null : s.id,
    persist: !opts.local,
    urlFor: (last) => api.eventsUrl(s.id, last),
    onDone: (stats, st) => finishStream(st, stats, opts.local),
    onError: (msg, st) => {
      toast(msg, 'error');
      finishStream(st, null, opts.local);
    },
  });
  state.stream = stream;
  setBusy(true);
  return stream;
}

function startAssistant() {
  const stream = newAssistantStream();
  stream.connect(api.eventsUrl(state.current.id, null));
}

// A reloaded (or switched-to) page finds the session generating: resume where it left off.
function attachRunningGeneration() {
  const s = state.current;
  const stream = newAssistantStream();
  const cache = loadCache(s.id);
  if (cache && cache.gen === s.generation_id) stream.restore(cache);
  stream.connect(api.eventsUrl(s.id, stream.lastEventId()));
}

async function finishStream(stream, stats, local) {
  if (state.stream === stream) state.stream = null;
  state.lastStreamText = stream.content;
  setBusy(false);
  if (local || !state.current) return;
  const sid = state.current.id;
  try {
    const fresh = await api.getSession(sid);
    if (!state.current || state.current.id !== sid) return;
    const last = fresh.messages[fresh.messages.length - 1];
    if (last && last.role === 'assistant' && stream.thinkMs !== null) {
      const secs = Math.max(1, Math.round(stream.thinkMs / 1000));
      localStorage.setItem(thoughtKey(last), String(secs));
    }
    state.current = fresh;
    renderConversation();
    await refreshSessions();
  } catch (e) {
    toast(`Reload failed: ${e.message}`, 'error');
  }
}

async function sendMessage(text) {
  if (!state.current) await newSession();
  const s = state.current;
  try {
    await api.send(s.id, text);
  } catch (e) {
    return toast(`Send failed: ${e.message}`, 'error');
  }
  const msg = { role: 'user', content: text, id: null };
  s.messages.push(msg);
  $('#messages').querySelector('.empty-state')?.remove();
  const view = messageView(msg);
  $('#messages').append(view.root);
  startAssistant();
  refreshSessions();
}

async function regenerate() {
  if (!state.current || state.stream) return;
  try {
    await api.regenerate(state.current.id);
  } catch (e) {
    return toast(`Regenerate failed: ${e.message}`, 'error');
  }
  const msgs = state.current.messages;
  while (msgs.length && msgs[msgs.length - 1].role !== 'user') msgs.pop();
  renderConversation();
  startAssistant();
}

async function stop() {
  const stream = state.stream;
  if (!stream) return;
  if (!stream.opts.sessionId) {
    // A local /quote: nothing runs on the server.
    stream.handle('done', { generated_tokens: 0, finish_reason: 'cancelled' }, null);
    return;
  }
  try {
    await api.stop(state.current.id);
  } catch (e) {
    toast(`Stop failed: ${e.message}`, 'error');
  }
}

function updateContextMeter() {
  const meter = $('#ctx-meter');
  const s = state.current;
  let used = 0;
  if (s) {
    const last = [...s.messages].reverse().find((m) => m.stats);
    if (last) used = last.stats.prompt_tokens + last.stats.generated_tokens;
  }
  const max = state.nCtx || 1;
  const pct = Math.min(100, (100 * used) / max);
  meter.setAttribute('aria-valuenow', String(used));
  meter.setAttribute('aria-valuemax', String(max));
  meter.setAttribute('aria-valuetext', `${used} of ${state.nCtx} context tokens used`);
  meter.querySelector('.fill').style.width = `${pct}%`;
  meter.querySelector('.ctx-label').textContent = `${used} / ${state.nCtx}`;
  meter.classList.toggle('high', pct > 85);
}

// ---------- export ----------

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function sessionToMarkdown(s) {
  const lines = [`# ${s.title}`, ''];
  if (s.settings.system_prompt) lines.push(`> System: ${s.settings.system_prompt}`, '');
  for (const m of s.messages) {
    lines.push(`## ${m.role === 'user' ? 'User' : 'Assistant'}`, '');
    if (m.reasoning) {
      lines.push('<details><summary>Reasoning</summary>', '', m.reasoning, '', '</details>', '');
    }
    for (const c of m.tool_calls || []) lines.push(`Tool call \`${c.name}\`: \`${c.arguments}\``, '');
    lines.push(m.content, '');
  }
  return lines.join('\n');
}

async function exportSession(format) {
  if (!state.current) return toast('No chat to export');
  const s = await api.getSession(state.current.id);
  const base = (s.title || 'chat').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'chat';
  if (format === 'json') download(`${base}.json`, 'application/json', JSON.stringify(s, null, 2));
  else download(`${base}.md`, 'text/markdown', sessionToMarkdown(s));
}

// ---------- settings ----------

const kSamplingFields = ['temperature', 'top_p', 'top_k', 'min_p', 'seed'];

function openSettings() {
  const s = state.current;
  if (!s) return toast('Open a chat first');
  const f = $('#settings-form');
  f.system_prompt.value = s.settings.system_prompt;
  f.max_tokens.value = s.settings.max_tokens;
  // The server stores floats: show 0.95, not 0.949999988079071.
  for (const k of kSamplingFields) f[k].value = Number(s.settings.sampling[k].toFixed(4));
  $('#settings').showModal();
}

async function saveSettings() {
  const f = $('#settings-form');
  const sampling = {};
  for (const k of kSamplingFields) sampling[k] = Number(f[k].value);
  try {
    const updated = await api.patchSession(state.current.id, {
      system_prompt: f.system_prompt.value,
      max_tokens: Number(f.max_tokens.value),
      sampling,
    });
    state.current.settings = updated.settings;
    toast('Settings saved');
  } catch (e) {
    toast(`Settings not saved: ${e.message}`, 'error');
  }
}

async function setThinking(on) {
  $('#thinking-toggle').checked = on;
  if (!state.current) return;
  try {
    const updated = await api.patchSession(state.current.id, { thinking: on });
    state.current.settings = updated.settings;
  } catch (e) {
    toast(`Could not change thinking: ${e.message}`, 'error');
  }
}

// ---------- slash commands ----------

const kCommands = [
  { name: '/think', help: 'Turn reasoning on', run: () => setThinking(true).then(() => toast('Thinking on')) },
  { name: '/no_think', help: 'Turn reasoning off', run: () => setThinking(false).then(() => toast('Thinking off')) },
  { name: '/new', help: 'Start a new chat', run: () => newSession() },
  {
    name: '/clear', help: 'Start over: a new chat with these settings',
    run: () => newSession(state.current ? { system_prompt: state.current.settings.system_prompt,
      thinking: state.current.settings.thinking, max_tokens: state.current.settings.max_tokens,
      sampling: state.current.settings.sampling } : {}),
  },
  {
    name: '/system', help: 'Set the system prompt: /system TEXT (no text opens settings)',
    run: async (arg) => {
      if (!arg) return openSettings();
      if (!state.current) await newSession();
      const updated = await api.patchSession(state.current.id, { system_prompt: arg });
      state.current.settings = updated.settings;
      toast('System prompt set');
    },
  },
  { name: '/stats', help: 'Show token statistics of this chat', run: () => showStats() },
  { name: '/export', help: 'Download this chat: /export md | json', run: (arg) => exportSession(arg === 'json' ? 'json' : 'md') },
  { name: '/help', help: 'List commands and shortcuts', run: () => $('#help').showModal() },
  {
    name: '/quote', help: 'Stream a quotation without the model (or /quote TEXT)',
    run: async (arg) => {
      if (!state.current) await newSession();
      if (state.stream) return toast('Wait for the answer or stop it first');
      const stream = newAssistantStream({ local: true });
      stream.view.root.classList.add('local');
      playQuote(stream, arg);
    },
  },
];

function showStats() {
  const s = state.current;
  if (!s) return toast('No chat yet');
  const done = s.messages.filter((m) => m.stats);
  const gen = done.reduce((a, m) => a + m.stats.generated_tokens, 0);
  const tps = done.length ? done.reduce((a, m) => a + m.stats.tokens_per_s, 0) / done.length : 0;
  const ttft = done.length ? done.reduce((a, m) => a + m.stats.ttft_ms, 0) / done.length : 0;
  toast(`${done.length} answers · ${gen} tokens · mean ${tps.toFixed(1)} tok/s · mean TTFT ${Math.round(ttft)} ms`);
}

function paletteMatches() {
  const v = $('#prompt').value;
  if (!v.startsWith('/') || v.includes('\n')) return [];
  const word = v.split(/\s/)[0];
  if (v.length > word.length) return [];  // the command has its argument: no list
  return kCommands.filter((c) => c.name.startsWith(word));
}

function renderPalette() {
  const pal = $('#palette');
  const items = paletteMatches();
  const prompt = $('#prompt');
  pal.textContent = '';
  if (!items.length) {
    pal.hidden = true;
    prompt.setAttribute('aria-expanded', 'false');
    prompt.removeAttribute('aria-activedescendant');
    return;
  }
  state.paletteIndex = Math.min(state.paletteIndex, items.length - 1);
  items.forEach((c, i) => {
    const opt = el('div', {
      class: 'palette-item', role: 'option', id: `cmd-${c.name.slice(1)}`,
      'aria-selected': i === state.paletteIndex ? 'true' : 'false',
      onmousedown: (e) => {
        e.preventDefault();
        pickCommand(c);
      },
    }, el('span', { class: 'cmd', text: c.name }), el('span', { class: 'cmd-help', text: c.help }));
    pal.append(opt);
  });
  pal.hidden = false;
  prompt.setAttribute('aria-expanded', 'true');
  prompt.setAttribute('aria-activedescendant', `cmd-${items[state.paletteIndex].name.slice(1)}`);
}

function pickCommand(c) {
  const prompt = $('#prompt');
  if (['/system', '/quote', '/export'].includes(c.name)) {
    prompt.value = `${c.name} `;
    renderPalette();
    prompt.focus();
    return;
  }
  prompt.value = '';
  renderPalette();
  runCommand(c, '');
}

async function runCommand(c, arg) {
  try {
    await c.run(arg);
  } catch (e) {
    toast(`${c.name} failed: ${e.message}`, 'error');
  }
}

// Returns true if the text was a command (run or refused).
function trySlash(text) {
  if (!text.startsWith('/')) return false;
  const m = /^(\/\S+)\s*([\s\S]*)$/.exec(text);
  const c = kCommands.find((k) => k.name === m[1]);
  if (!c) {
    toast(`Unknown command ${m[1]} (see /help)`, 'error');
    return true;
  }
  runCommand(c, m[2].trim());
  return true;
}

// ---------- composer and keys ----------

function autoGrow() {
  const ta = $('#prompt');
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 220)}px`;
}

async function submitComposer() {
  const prompt = $('#prompt');
  const text = prompt.value.trim();
  if (!text) return;
  if (state.stream && !text.startsWith('/')) return toast('Wait for the answer or stop it first');
  prompt.value = '';
  autoGrow();
  renderPalette();
  if (trySlash(text)) return;
  await sendMessage(text);
}

function closeSidebarOnPhone() {
  if (window.matchMedia('(max-width: 760px)').matches) toggleSidebar(false);
}

function toggleSidebar(open) {
  const show = open ?? !document.body.classList.contains('sidebar-open');
  document.body.classList.toggle('sidebar-open', show);
  $('#toggle-sidebar').setAttribute('aria-expanded', show ? 'true' : 'false');
}

function wire() {
  $('#theme-toggle').addEventListener('click', () => {
    localStorage.setItem('smol.theme', effectiveTheme() === 'dark' ? 'light' : 'dark');
    applyTheme();
  });
  $('#new-chat').addEventListener('click', () => newSession());
  $('#session-search').addEventListener('input', renderSessions);
  $('#toggle-sidebar').addEventListener('click', () => toggleSidebar());
  $('#scrim').addEventListener('click', () => toggleSidebar(false));
  $('#stop').addEventListener('click', stop);
  $('#open-settings').addEventListener('click', openSettings);
  $('#settings').addEventListener('close', () => {
    if ($('#settings').returnValue === 'save') saveSettings();
  });
  $('#thinking-toggle').addEventListener('change', (e) => setThinking(e.target.checked));
  for (const b of document.querySelectorAll('[data-export]')) {
    b.addEventListener('click', () => {
      b.closest('details').open = false;
      exportSession(b.dataset.export);
    });
  }
  const prompt = $('#prompt');
  $('#composer').addEventListener('submit', (e) => {
    e.preventDefault();
    submitComposer();
  });
  prompt.addEventListener('input', () => {
    state.paletteIndex = 0;
    autoGrow();
    renderPalette();
  });
  prompt.addEventListener('keydown', (e) => {
    const items = paletteMatches();
    if (items.length && !$('#palette').hidden) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = items.length;
        state.paletteIndex = (state.paletteIndex + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        renderPalette();
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) {
        e.preventDefault();
        pickCommand(items[state.paletteIndex]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        $('#palette').hidden = true;
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submitComposer();
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.stream && !document.querySelector('dialog[open]')) {
      e.preventDefault();
      stop();
    }
  });
  $('#messages').addEventListener('smol:rendered', () => scrollToEnd());
}

async function main() {
  applyTheme();
  wire();
  try {
    const props = await api.props();
    state.nCtx = props.n_ctx;
    $('#model-name').textContent = props.model_name || '';
  } catch {
    state.nCtx = 0;
  }
  await refreshSessions();
  const wanted = location.hash.slice(1) || localStorage.getItem('smol.session');
  const pick = state.sessions.find((s) => s.id === wanted) || state.sessions[0];
  if (pick) await openSession(pick.id);
  else renderConversation();
  document.body.classList.add('ready');
}

// Read-only hooks for the browser tests (tests/www): the raw text of the live and last stream.
window.smolDebug = {
  get streamText() { return state.stream ? state.stream.content : null; },
  get lastStreamText() { return state.lastStreamText ?? null; },
};

main().catch((e) => toast(`Could not start: ${e.message}`, 'error'));
