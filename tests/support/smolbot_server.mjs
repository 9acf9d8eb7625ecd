// Starts `smolbot serve` for the node tests (tests/net, tests/www) and waits until it answers.
import { spawn } from 'node:child_process';

// Runs `bin serve --port 0 ...args`; resolves { child, url } once the server prints its address.
export function startServer(bin, args, options = {}) {
  const child = spawn(bin, ['serve', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
}

// Polls /health for up to two minutes (the model loads in the background).
export async function waitHealthy(url) {
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server never became healthy');
}
