// Applies a generation's events (thinking / token / tool_call / done / error, docs/api.md) to a
// message view. Events arrive either from the server through htmx's SSE extension or from the
// built-in /quote player; both call Stream.handle, so they share one rendering path.
//
// Reload safety: the text received so far and the last event id are mirrored into
// sessionStorage; a reloaded page restores them and reconnects with ?last_event_id=, so the
// server replays only what the page has not seen. Without the cache the whole log is replayed.

/* global htmx */
import { el, renderMarkdown, statsText, toolCard } from './render.js';

const cacheKey = (sessionId) => `smol.stream.${sessionId}`;

export function loadCache(sessionId) {
  try {
    return JSON.parse(sessionStorage.getItem(cacheKey(sessionId)) || 'null');
  } catch {
    return null;
  }
}

export function clearCache(sessionId) {
  sessionStorage.removeItem(cacheKey(sessionId));
}

export class Stream {
  // view: from messageView(); opts: {sessionId, onDone(stats, stream), onError(msg, stream), persist}
  constructor(view, opts) {
    this.view = view;
    this.opts = opts;
    this.gen = null;
    this.last = -1;
    this.content = '';
    this.reasoning = '';
    this.tools = [];
    this.thinkStart = null;
    this.thinkMs = null;
    this.finished = false;
    this.renderQueued = false;
    this.holder = null;
    view.text = () => this.content;
  }

  restore(cache) {
    this.gen = cache.gen;
    this.last = cache.last;
    this.content = cache.content || '';
    this.reasoning = cache.reasoning || '';
    this.tools = cache.tools || [];
    this.thinkStart = cache.thinkStart ?? null;
    this.thinkMs = cache.thinkMs ?? null;
    for (const t of this.tools) this.view.tools.append(toolCard(t));
    this.view.reasoningBody.textContent = this.reasoning;
    if (this.reasoning) this.view.reasoning.hidden = false;
    this.updateSummary(!this.content);
    this.scheduleRender();
  }

  lastEventId() {
    return this.gen === null ? null : `${this.gen}:${this.last}`;
  }

  // Returns false for an event already applied (a reconnect that replays).
  accept(id) {
    if (!id) return true;
    const cut = id.lastIndexOf(':');
    const gen = id.slice(0, cut);
    const idx = Number(id.slice(cut + 1));
    if (gen !== this.gen) {
      // A new generation's log (first event, or the page's cache was from an older one).
      if (this.gen !== null) this.reset();
      this.gen = gen;
    } else if (idx <= this.last) {
      return false;
    }
    this.last = idx;
    return true;
  }

  reset() {
    this.content = '';
    this.reasoning = '';
    this.tools = [];
    this.thinkStart = null;
    this.thinkMs = null;
    this.view.tools.textContent = '';
    this.view.reasoningBody.textContent = '';
  }

  handle(type, data, id) {
    if (this.finished || !this.accept(id)) return;
    const v = this.view;
    if (type === 'thinking') {
      if (this.thinkStart === null) this.thinkStart = Date.now();
      this.reasoning += data.text;
      v.reasoning.hidden = false;
      v.reasoningBody.textContent = this.reasoning;
      this.updateSummary(true);
    } else if (type === 'token') {
      if (this.reasoning && this.thinkMs === null) {
        this.thinkMs = Date.now() - (this.thinkStart ?? Date.now());
        this.updateSummary(false);
      }
      this.content += data.text;
      this.scheduleRender();
    } else if (type === 'tool_call') {
      this.tools.push(data);
      v.tools.append(toolCard(data));
    } else if (type === 'done') {
      if (this.reasoning && this.thinkMs === null) {
        this.thinkMs = Date.now() - (this.thinkStart ?? Date.now());
      }
      this.updateSummary(false);
      this.finish();
      v.stats.textContent = statsText(data);
      this.opts.onDone?.(data, this);
      return;
    } else if (type === 'error') {
      this.finish();
      v.root.classList.add('failed');
      v.stats.textContent = `Error: ${data.message || 'generation failed'}`;
      this.opts.onError?.(data.message || 'generation failed', this);
      return;
    }
    this.persist();
  }

  updateSummary(thinking) {
    const v = this.view;
    if (!this.reasoning) return;
    if (thinking && this.thinkMs === null) {
      v.summary.textContent = 'Thinking…';
      v.reasoning.open = true;
      v.reasoning.classList.add('live');
    } else {
      const s = Math.max(1, Math.round((this.thinkMs ?? 0) / 1000));
      v.summary.textContent = `Thought for ${s} s`;
      v.reasoning.open = false;
      v.reasoning.classList.remove('live');
    }
  }

  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      renderMarkdown(this.view.content, this.content);
      this.view.root.dispatchEvent(new CustomEvent('smol:rendered', { bubbles: true }));
    });
  }

  persist() {
    if (!this.opts.persist || !this.opts.sessionId) return;
    const snapshot = {
      gen: this.gen, last: this.last, content: this.content, reasoning: this.reasoning,
      tools: this.tools, thinkStart: this.thinkStart, thinkMs: this.thinkMs,
    };
    try {
      sessionStorage.setItem(cacheKey(this.opts.sessionId), JSON.stringify(snapshot));
    } catch {
      // Storage full: a reload then replays the whole log instead.
    }
  }

  finish() {
    this.finished = true;
    renderMarkdown(this.view.content, this.content);
    this.view.content.setAttribute('aria-busy', 'false');
    this.view.root.classList.remove('streaming');
    if (this.opts.sessionId) clearCache(this.opts.sessionId);
    this.disconnect();
  }

  // Opens the session's event stream through htmx's SSE extension. The sse-connect URL is kept
  // pointing after the last applied event, so the extension's own reconnects resume, not replay.
  connect(url) {
    this.view.root.classList.add('streaming');
    const holder = el('div', {
      class: 'sse-holder',
      hidden: true,
      'hx-ext': 'sse',
      'sse-connect': url,
      'sse-close': 'done',
    });
    const sink = el('div', { 'sse-swap': 'thinking,token,tool_call,done,error', 'hx-swap': 'none' });
    sink.addEventListener('htmx:sseBeforeMessage', (e) => {
      e.preventDefault();
      const ev = e.detail;
      if (typeof ev.data !== 'string') return;  // a connection error, not the server's event
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.handle(ev.type, data, ev.lastEventId);
      if (!this.finished && this.opts.urlFor) {
        holder.setAttribute('sse-connect', this.opts.urlFor(this.lastEventId()));
      }
    });
    holder.append(sink);
    document.getElementById('streams').append(holder);
    this.holder = holder;
    htmx.process(holder);
  }

  disconnect() {
    if (this.holder) {
      // The extension closes its EventSource once the element is gone; closing it here as well
      // (its internal data) saves waiting for the next event.
      this.holder['htmx-internal-data']?.sseEventSource?.close();
      this.holder.remove();
      this.holder = null;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

// Built-in quotations for /quote: streamed word by word through Stream.handle, with no model.
const kQuotes = [
  ['The most dangerous phrase in the language is: we have always done it this way.', 'Grace Hopper'],
  ['Simplicity is prerequisite for reliability.', 'Edsger W. Dijkstra'],
  ['Premature optimization is the root of all evil.', 'Donald Knuth'],
  ['Talk is cheap. Show me the code.', 'Linus Torvalds'],
  ['Make it work, make it right, make it fast.', 'Kent Beck'],
];

// Plays `text` (or a built-in quotation) as thinking + token events, then done.
export function playQuote(stream, text, delayMs = 35) {
  let body = text;
  if (!body) {
    const [q, who] = kQuotes[Math.floor(Math.random() * kQuotes.length)];
    body = `> ${q}\n>\n> — *${who}*`;
  }
  const thought =
    'The user asked for a quotation. This one is streamed by the page itself, without the ' +
    'model, through the same event handler as a real answer: reasoning first, then the text ' +
    'word by word, then the statistics.';
  const events = [];
  for (const w of thought.split(/(?<= )/)) events.push(['thinking', { text: w }]);
  for (const w of body.split(/(?<=\s)/)) events.push(['token', { text: w }]);
  const gen = `quote-${Date.now().toString(16)}`;
  const started = performance.now();
  let i = 0;
  let firstToken = null;
  const step = () => {
    stream.timer = null;
    if (stream.finished) return;
    if (i < events.length) {
      const [type, data] = events[i];
      if (type === 'token' && firstToken === null) firstToken = performance.now() - started;
      stream.handle(type, data, `${gen}:${i}`);
      i += 1;
      stream.timer = setTimeout(step, delayMs);
      return;
    }
    const secs = (performance.now() - started) / 1000;
    stream.handle('done', {
      prompt_tokens: 0, cached_tokens: 0, generated_tokens: events.length,
      ttft_ms: firstToken ?? 0, tokens_per_s: events.length / Math.max(secs, 1e-3),
      finish_reason: 'stop',
    }, `${gen}:${i}`);
  };
  stream.view.root.classList.add('streaming');
  stream.timer = setTimeout(step, delayMs);
}
