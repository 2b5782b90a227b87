// npm start: the whole supergraph on this machine with one command.
// councilgraph is built from this repository and run on its embedded store in
// a fresh data directory, which loads the bundled Stockton data set (or, with
// COUNCILGRAPH_URL, one already running is used, and with COUNCILGRAPH_KEY
// the gateway calls it with that API key); the NHS trust subgraph and the
// ICB practice directory start beside it; all three compose into a
// supergraph (also written to supergraph.graphql); and Hive Gateway serves it
// on http://127.0.0.1:4000/graphql (HOST and PORT change that; PORT=0 takes a
// free port), with its demand control (GATEWAY_MAX_COST) and response cache
// (GATEWAY_CACHE_TTL_MS) on. Ctrl-C stops it all.

import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startCouncilgraph } from '../../conformance/lib/councilgraph.js';
import { composeSupergraph, councilgraphSDL } from './compose.js';
import { createGateway } from './gateway.js';
import { startICB } from './icb.js';
import { startNHS } from './nhs.js';

const here = dirname(fileURLToPath(import.meta.url));

// The two-way query of docs/partners.md: councilgraph's person, their organisation, the
// trust service's record of it, and its safeguarding lead from councilgraph.
const twoWay = `{
  person(id: "person:teeswide-safeguarding-adults-board/hilary-lloyd") {
    name
    organisation { name nhsTrust { odsCode safeguardingLead { name jobTitle } } }
  }
}`;

// stops holds what has started, stopped in reverse order on the way out.
const stops = [];
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      console.error(`stopping: ${err.message}`);
    }
  }
  process.exit(code);
}

// number reads a non-negative number from the environment variable name,
// or def when it is unset.
function number(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

async function main() {
  const port = Number(process.env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`);
  }
  let cgURL = process.env.COUNCILGRAPH_URL;
  if (!cgURL) {
    console.log('building and starting councilgraph on its embedded store (the Stockton data set)...');
    const cg = await startCouncilgraph();
    stops.push(cg.stop);
    cgURL = cg.url;
  }
  console.log(`councilgraph: ${cgURL}`);

  const nhs = await startNHS();
  stops.push(nhs.stop);
  console.log(`NHS trust subgraph: ${nhs.url}`);

  const icb = await startICB();
  stops.push(icb.stop);
  console.log(`ICB practice directory subgraph: ${icb.url}`);

  const { supergraphSdl, hints } = composeSupergraph({
    councilgraph: { url: cgURL, sdl: await councilgraphSDL(cgURL) },
    nhs: { url: nhs.url },
    icb: { url: icb.url },
  });
  for (const h of hints) console.log(`composition hint: ${h.code}: ${h.message}`);
  const file = join(here, 'supergraph.graphql');
  await writeFile(file, supergraphSdl);
  console.log(`supergraph composed: ${file}`);

  // The gateway's own budget and cache: councilgraph's ceiling for the
  // callers it reads as (10,000 anonymous, 50,000 with a partner key) and
  // councilgraph's max-age (60 s by default).
  const councilgraphKey = process.env.COUNCILGRAPH_KEY || undefined;
  const maxCost = number('GATEWAY_MAX_COST', councilgraphKey ? 50_000 : 10_000);
  const cacheTtlMs = number('GATEWAY_CACHE_TTL_MS', 60_000);
  const gateway = createGateway(supergraphSdl, {
    logging: process.env.GATEWAY_LOGGING !== 'false',
    councilgraphKey,
    maxCost,
    cacheTtlMs,
  });
  console.log(`demand control: operations estimated above ${maxCost} are refused; response cache: ${cacheTtlMs} ms`);
  const server = createServer(gateway);
  stops.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await gateway[Symbol.asyncDispose]();
  });
  server.listen(port, process.env.HOST ?? '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new Error(`Hive Gateway cannot listen on ${process.env.HOST ?? '127.0.0.1'}:${port}: ${err.message}`);
    }),
  ]);
  const { address, port: listening } = server.address();
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${listening}/graphql`;

  console.log(`\nHive Gateway: ${url}`);
  console.log('The two-way query, councilgraph → NHS trust → councilgraph:\n');
  console.log(`curl -s ${url} -H 'content-type: application/json' \\\n  -d '${JSON.stringify({ query: twoWay.replace(/\s+/g, ' ') })}'\n`);
  console.log('Ctrl-C stops the gateway and the three subgraphs.');
}

process.once('SIGINT', () => stopAll(0));
process.once('SIGTERM', () => stopAll(0));
main().catch((err) => {
  console.error(err.stack ?? String(err));
  stopAll(1);
});
