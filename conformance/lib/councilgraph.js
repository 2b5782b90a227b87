// Starts councilgraph as a user would: built from the repository root, run on
// its embedded store in a fresh data directory (which loads the bundled
// Stockton data set), and ready once /readyz answers 200.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: the folder above conformance/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Builds and starts councilgraph with --expose-cost, so that every response
 * says how many MongoDB commands it took (extensions.cost), and any further
 * serve flags given.
 *
 * @param {string[]} [flags] more flags for `councilgraph serve`
 * @returns {Promise<{url: string, base: string, createKey: (name: string, scopes: string) => string, stop: () => Promise<void>, bin: string, dataDir: string}>}
 *   url is the GraphQL endpoint; createKey runs `councilgraph keys create`
 *   on its store and returns the new key; stop ends the process and removes
 *   its files; bin and dataDir run the other commands (import, keys,
 *   webhooks) on its store.
 */
export async function startCouncilgraph(flags = []) {
  const dir = await mkdtemp(join(tmpdir(), 'councilgraph-conformance-'));
  const bin = join(dir, 'councilgraph');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });

  const env = { ...process.env };
  delete env.MONGODB_URI; // always the embedded store, whatever the caller's shell says
  // No debug listener: its fixed default port would clash with any other
  // councilgraph on the machine (make run, another test run).
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--debug-addr', '', '--data-dir', join(dir, 'db'), '--expose-cost', ...flags], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);

  // The server logs JSON lines on stderr; keep reading them all (a full pipe
  // would block it) and remember the last few for a failure message.
  const tail = [];
  let onListening;
  const listening = new Promise((resolveAddr, reject) => {
    onListening = resolveAddr;
    child.once('exit', (code, signal) =>
      reject(new Error(`councilgraph exited (${code ?? signal}) before listening:\n${tail.join('\n')}`)));
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    try {
      const rec = JSON.parse(line);
      if (rec.msg === 'listening') onListening(rec.addr);
    } catch {
      // not a log record (a panic, say): kept in tail for the message
    }
  });

  const stop = async () => {
    process.removeListener('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const addr = await listening;
    const base = `http://${addr}`;
    await waitReady(`${base}/readyz`);
    const createKey = (name, scopes) => {
      const out = execFileSync(bin, ['keys', 'create', '--data-dir', join(dir, 'db'), '--name', name, '--scopes', scopes], { env, encoding: 'utf8' });
      const key = out.match(/^key \(shown once; store it now\): (\S+)$/m)?.[1];
      if (!key) throw new Error(`councilgraph keys create printed no key:\n${out}`);
      return key;
    };
    return { url: `${base}/graphql`, base, createKey, stop, bin, dataDir: join(dir, 'db') };
  } catch (err) {
    await stop();
    throw err;
  }
}

// waitReady polls url until it answers 200, for at most a minute.
async function waitReady(url) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not accepting connections yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within a minute`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Posts a GraphQL request straight to url and returns the parsed body. */
export async function post(url, query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (!res.ok || body.errors) throw new Error(`POST ${url} = ${res.status} ${JSON.stringify(body)}`);
  return body;
}
