// Turns messages into DOM. All model, user and title text enters the page either through
// textContent or through marked -> DOMPurify, never as raw HTML, so markup in a message is inert.

/* global marked, DOMPurify, hljs */

marked.setOptions({ gfm: true, breaks: false });
hljs.configure({ ignoreUnescapedHTML: true });

// Links open in a new tab without access to this page.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (permissions, insecure context): fall back to a hidden textarea.
    const ta = el('textarea', { class: 'sr-only' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = 'Copied';
    button.classList.add('done');
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove('done');
    }, 1200);
  }
}

export function renderMarkdown(target, text) {
  const html = DOMPurify.sanitize(marked.parse(text || ''), { USE_PROFILE: { html: true } });
  target.innerHTML = html;
  for (const code of target.querySelectorAll('pre > code')) {
    const pre = code.parentElement;
    try {
      hljs.highlightElement(code);
    } catch {
      // An unknown language name leaves the block plain.
    }
    const lang = [...code.classList].find((c) => c.startsWith('language-'));
    const bar = el(
      'div',
      { class: 'code-bar' },
      el('span', { class: 'code-lang', text: lang ? lang.slice(9) : 'code' }),
      el('button', {
        type: 'button',
        class: 'chip copy-code',
        text: 'Copy code',
        onclick: (e) => copyText(code.textContent, e.currentTarget),
      }),
    );
    pre.before(bar);
    const wrap = el('div', { class: 'code-block' });
    bar.before(wrap);
    wrap.append(bar, pre);
  }
}

export function statsText(s) {
  if (!s) return '';
  const parts = [`${s.generated_tokens} tokens`];
  if (s.ttft_ms !== undefined) parts.push(`TTFT ${Math.round(s.ttft_ms)} ms`);
  if (s.tokens_per_s !== undefined) parts.push(`${s.tokens_per_s.toFixed(1)} tok/s`);
  if (s.finish_reason && s.finish_reason !== 'stop') parts.push(s.finish_reason);
  return parts.join(' · ');
}

export function toolCard(call) {
  let args = call.arguments;
  try {
    args = JSON.stringify(JSON.parse(call.arguments), null, 2);
  } catch {
    // Not JSON: show as sent.
  }
  return el(
    'div',
    { class: 'tool-card', role: 'group', 'aria-label': `Tool call ${call.name}` },
    el('div', { class: 'tool-head' }, el('span', { class: 'tool-icon', 'aria-hidden': 'true', text: '⚙' }),
      el('span', { class: 'tool-name', text: call.name })),
    el('pre', { class: 'tool-args' }, el('code', { text: args })),
  );
}

// One assistant or user message. Returns {root, content, reasoning, reasoningBody, summary,
// tools, stats, actions} so the stream can fill it in place.
export function messageView(msg, opts = {}) {
  const root = el('article', {
    class: `msg ${msg.role}`,
    'data-role': msg.role,
    'data-id': msg.id ?? '',
  });
  const who = el('div', { class: 'msg-who', text: msg.role === 'user' ? 'You' : 'SmolBot' });
  const bubble = el('div', { class: 'bubble' });
  const view = { root, bubble };
  if (msg.role === 'user') {
    view.content = el('div', { class: 'content plain', text: msg.content });
    bubble.append(view.content);
  } else {
    view.summary = el('summary', { text: opts.reasoningLabel || 'Reasoning' });
    view.reasoningBody = el('div', { class: 'reasoning-body' });
    view.reasoning = el('details', { class: 'reasoning' }, view.summary, view.reasoningBody);
    view.reasoningBody.textContent = msg.reasoning || '';
    view.reasoning.hidden = !msg.reasoning && !opts.streaming;
    view.tools = el('div', { class: 'tools' });
    for (const c of msg.tool_calls || []) view.tools.append(toolCard(c));
    view.content = el('div', { class: 'content markdown' });
    if (opts.streaming) {
      view.content.setAttribute('aria-live', 'polite');
      view.content.setAttribute('aria-busy', 'true');
    }
    renderMarkdown(view.content, msg.content);
    bubble.append(view.reasoning, view.tools, view.content);
  }
  view.stats = el('div', { class: 'msg-stats', text: statsText(msg.stats) });
  view.actions = el('div', { class: 'msg-actions' });
  view.actions.append(
    el('button', {
      type: 'button',
      class: 'chip',
      text: 'Copy',
      'aria-label': 'Copy message',
      onclick: (e) => copyText(view.text ? view.text() : msg.content, e.currentTarget),
    }),
  );
  root.append(who, bubble, el('div', { class: 'msg-foot' }, view.stats, view.actions));
  return view;
}
