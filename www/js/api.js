// Thin fetch wrappers over the server's native session API (docs/api.md). Every call returns the
// parsed JSON or throws an Error whose message is the server's own error text.

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = data && data.error && data.error.message ? data.error.message : `HTTP ${res.status}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

const sid = (id) => `/api/sessions/${encodeURIComponent(id)}`;

export const api = {
  props: () => call('GET', '/props'),
  listSessions: () => call('GET', '/api/sessions').then((d) => d.sessions),
  createSession: (fields = {}) => call('POST', '/api/sessions', fields),
  getSession: (id) => call('GET', sid(id)),
  patchSession: (id, fields) => call('PATCH', sid(id), fields),
  deleteSession: (id) => call('DELETE', sid(id)),
  send: (id, content) => call('POST', `${sid(id)}/messages`, { content }),
  editMessage: (id, mid, content) => call('PATCH', `${sid(id)}/messages/${mid}`, { content }),
  regenerate: (id) => call('POST', `${sid(id)}/regenerate`),
  stop: (id) => call('POST', `${sid(id)}/stop`),
  eventsUrl: (id, lastEventId) =>
    `${sid(id)}/events` + (lastEventId ? `?last_event_id=${encodeURIComponent(lastEventId)}` : ''),
};
