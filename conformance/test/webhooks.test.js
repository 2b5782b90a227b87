// Webhooks, checked by an independent implementation: councilgraph delivers
// a change made by an import to a receiver here, and the standardwebhooks
// package (the Standard Webhooks reference library) verifies its signature.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { Webhook } from 'standardwebhooks';

import { repoRoot, startCouncilgraph } from '../lib/councilgraph.js';

const run = promisify(execFile);

let cg;
let receiver;
let setDir;
const received = [];
let onDelivery = () => {};

before(async () => {
  cg = await startCouncilgraph();
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
      onDelivery();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  setDir = await mkdtemp(join(tmpdir(), 'councilgraph-webhooks-'));
});

after(async () => {
  receiver?.close();
  await cg?.stop();
  if (setDir) await rm(setDir, { recursive: true, force: true });
});

/** Runs a councilgraph command (import, or keys and webhooks with their
 * subcommand) on the running service's store. */
async function councilgraph(...args) {
  const env = { ...process.env };
  delete env.MONGODB_URI;
  const words = args[0] === 'import' ? 1 : 2; // the flags go after these
  const argv = [...args.slice(0, words), '--data-dir', cg.dataDir, ...args.slice(words)];
  const { stdout } = await run(cg.bin, argv, { env });
  return stdout;
}

test('a change reaches a webhook, signed as Standard Webhooks verifies', async () => {
  const created = await councilgraph('keys', 'create', '--name', 'Conformance partner', '--scopes', 'partner');
  const client = created.match(/client:[0-9a-f]{12}/)?.[0];
  assert.ok(client, created);
  const url = `http://127.0.0.1:${receiver.address().port}/hooks`;
  const added = await councilgraph('webhooks', 'add', '--client', client, '--url', url, '--types', 'Body');
  const secret = added.match(/whsec_[A-Za-z0-9+/=]+/)?.[0];
  const endpoint = added.match(/webhook:[0-9a-f]{12}/)?.[0];
  assert.ok(secret && endpoint, added);

  // The change: the bundled data set again, with a note on Cabinet.
  const set = join(setDir, 'stockton');
  await cp(join(repoRoot, 'data', 'stockton'), set, { recursive: true });
  const bodies = join(set, 'bodies.yaml');
  const before = await readFile(bodies, 'utf8');
  const note = 'Noted by the webhook conformance test.';
  const after = before.replace('- id: body:stockton-on-tees/cabinet\n', `- id: body:stockton-on-tees/cabinet\n  notes: ${note}\n`);
  assert.notEqual(after, before, 'body:stockton-on-tees/cabinet is not in bodies.yaml');
  await writeFile(bodies, after);

  const delivered = new Promise((resolve) => {
    onDelivery = resolve;
  });
  // The copy is the same set wherever it sits: its set.yaml names it.
  await councilgraph('import', set);
  const timeout = new Promise((_, reject) => {
    setTimeout(() => reject(new Error('no delivery within 30 s')), 30_000).unref();
  });
  await Promise.race([delivered, timeout]);

  const { headers, body } = received[0];
  const payload = new Webhook(secret).verify(body, headers);
  assert.equal(payload.type, 'councilgraph.changes');
  const change = payload.data.changes.find((c) => c.id === 'body:stockton-on-tees/cabinet');
  assert.ok(change, body);
  assert.equal(change.kind, 'UPSERT');
  assert.equal(change.type, 'Body');
  assert.equal(change.record.__typename, 'Body');
  assert.equal(change.record.notes, note);
  assert.ok(payload.data.changes.every((c) => c.type === 'Body'), body);
  assert.match(headers['webhook-id'], /^msg_/);
  assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);

  // And it is the signature that verifies: another body, or another
  // secret, does not.
  assert.throws(() => new Webhook(secret).verify(body.replace(note, 'Something else.'), headers));
  assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(body, headers));

  const list = await councilgraph('webhooks', 'list');
  assert.match(list, new RegExp(endpoint));
  assert.match(list, /ACTIVE/);
  assert.doesNotMatch(list, /whsec_/);
});
