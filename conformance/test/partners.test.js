// What a partner's router needs from councilgraph, checked through real
// routers: an NHS-style partner subgraph (examples/supergraph/icb.js) with its
// own Node interface, node field, PageInfo and DateTime composes with
// councilgraph and joins it on an area's GSS code, through Apollo Gateway and
// Hive Gateway; and Hive Gateway's demand control budgets councilgraph from
// the @cost and @listSize councilgraph serves, never below councilgraph's own
// reckoning, while its response cache keeps councilgraph's answers.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { composeSupergraph, councilgraphSDL } from '../../examples/supergraph/compose.js';
import { createGateway as createHiveGateway } from '../../examples/supergraph/gateway.js';
import { startICB } from '../../examples/supergraph/icb.js';
import { startNHS } from '../../examples/supergraph/nhs.js';
import { post, repoRoot, startCouncilgraph } from '../lib/councilgraph.js';
import { askHive, gateways } from '../lib/gateways.js';
import { startRecorder } from '../lib/recorder.js';

// Every request the gateways send to a subgraph, with its answer's extensions.
const sent = [];
let cg;
let supergraphSdl;
const stops = [];

before(async () => {
  cg = await startCouncilgraph();
  stops.push(cg.stop);
  const nhs = await startNHS();
  stops.push(nhs.stop);
  const icb = await startICB();
  stops.push(icb.stop);
  const recorders = [
    await startRecorder('councilgraph', cg.url, sent),
    await startRecorder('nhs', nhs.url, sent),
    await startRecorder('icb', icb.url, sent),
  ];
  stops.push(...recorders.map((r) => r.stop));
  const composed = composeSupergraph({
    councilgraph: { url: recorders[0].url, sdl: await councilgraphSDL(cg.url) },
    nhs: { url: recorders[1].url },
    icb: { url: recorders[2].url },
  });
  supergraphSdl = composed.supergraphSdl;
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
});

// The entity representations in subgraph requests, from their variables.
const representations = (requests) => requests.flatMap((s) => Object.values(s.variables ?? {}).flat());

test("the supergraph keeps councilgraph's cost directives and joins Area on both keys", () => {
  assert.match(supergraphSdl, /@link\(url: "https:\/\/specs\.apollo\.dev\/cost\/v0\.1"/);
  assert.match(supergraphSdl, /people\([^)]*\): PersonConnection! @join__field\(graph: COUNCILGRAPH\) @listSize\(assumedSize: 20, slicingArguments: \["first"\], sizedFields: \["edges"\], requireOneSlicingArgument: false\) @cost\(weight: \d+\)/);
  assert.match(supergraphSdl, /type Area implements Node[^{]*@join__type\(graph: COUNCILGRAPH, key: "id"\)\s+@join__type\(graph: COUNCILGRAPH, key: "code"\)\s+@join__type\(graph: ICB, key: "code"\)/);
  assert.match(supergraphSdl, /type PageInfo\s+@join__type\(graph: COUNCILGRAPH\)\s+@join__type\(graph: ICB\)/);
});

for (const gw of gateways) {
  describe(gw.name, () => {
    let gateway;
    before(async () => {
      gateway = await gw.start(supergraphSdl);
    });
    after(async () => {
      await gateway?.stop();
    });
    const gql = async (query) => {
      sent.length = 0;
      const { data, errors } = await gateway.run(query);
      assert.deepEqual(errors ?? [], [], 'gateway errors');
      return data;
    };

    test("partner → councilgraph: each practice's area, found by its GSS code", async () => {
      const data = await gql(`{
        practices(first: 3) {
          edges { node { name checkedAt area { name kind code } } }
          pageInfo { hasNextPage }
        }
      }`);
      const stockton = { name: 'Stockton-on-Tees', kind: 'LOCAL_AUTHORITY', code: 'E06000004' };
      assert.deepEqual(data, {
        practices: {
          edges: [
            { node: { name: 'Example Riverside Surgery', checkedAt: '2024-01-15T09:00:00Z', area: stockton } },
            { node: { name: 'Example Norton Medical Centre', checkedAt: '2024-02-01T09:00:00Z', area: stockton } },
            { node: { name: 'Example Tyneside Health Centre', checkedAt: '2024-03-04T09:00:00Z', area: { name: 'North East', kind: 'REGION', code: 'E12000001' } } },
          ],
          pageInfo: { hasNextPage: false },
        },
      });
      const toCouncilgraph = sent.filter((s) => s.subgraph === 'councilgraph');
      assert.equal(toCouncilgraph.length, 1, 'one request to councilgraph');
      const reps = representations(toCouncilgraph);
      assert.deepEqual([...new Set(reps.map((r) => r.code))].sort(), ['E06000004', 'E12000001']);
      assert.ok(reps.every((r) => r.__typename === 'Area' && r.code && !r.id), 'areas are asked for by code alone');
    });

    test("councilgraph → partner: an area's practices, joined on its code", async () => {
      const data = await gql(`{
        areas { id code practices { name } }
        area(id: "area:E06000004") { name practices { name area { name } } }
      }`);
      assert.deepEqual(data.area, {
        name: 'Stockton-on-Tees',
        practices: [
          { name: 'Example Riverside Surgery', area: { name: 'Stockton-on-Tees' } },
          { name: 'Example Norton Medical Centre', area: { name: 'Stockton-on-Tees' } },
        ],
      });
      const byID = Object.fromEntries(data.areas.map((a) => [a.id, a]));
      assert.deepEqual(byID['area:E12000001'].practices, [{ name: 'Example Tyneside Health Centre' }]);
      assert.deepEqual(byID['area:E92000001'].practices, []);
      for (const a of data.areas.filter((a) => a.code === null)) {
        assert.ok(a.practices === null || a.practices.length === 0, `${a.id} has no code, so no practices`);
      }
    });

    test("the shared node answers a record both subgraphs answer for", async () => {
      // A node field both subgraphs define is sent to either (Federation
      // takes a shareable field to resolve alike everywhere), so each must
      // answer for the other's IDs too: the partner answers councilgraph's
      // organisations by reference, which the gateway then resolves
      // through councilgraph.
      const data = await gql('{ node(id: "organisation:stockton-on-tees-borough-council") { id ... on Organisation { name kind } } }');
      assert.deepEqual(data, { node: { id: 'organisation:stockton-on-tees-borough-council', name: 'Stockton-on-Tees Borough Council', kind: 'LOCAL_AUTHORITY' } });
    });
  });
}

// The queries of README.md § Example queries.
async function readmeExamples() {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  let section = readme.slice(readme.indexOf('## Example queries'));
  section = section.slice(0, section.indexOf('\n## ', 3) > 0 ? section.indexOf('\n## ', 3) : undefined);
  const found = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(found.length >= 5, `README examples: ${found.length}`);
  return found;
}

describe("Hive Gateway's demand control, from councilgraph's @cost and @listSize", () => {
  let ceiling;
  let gateway;
  before(async () => {
    // councilgraph's own reckoning and its ceiling for anonymous callers.
    const direct = await post(cg.url, '{ areas { name } }');
    ceiling = direct.extensions.costLimit.ceiling;
    assert.ok(ceiling > 0, `ceiling ${ceiling}`);
    gateway = createHiveGateway(supergraphSdl, { logging: false, maxCost: ceiling });
  });
  after(async () => {
    await gateway?.[Symbol.asyncDispose]();
  });

  test("estimates each README example no lower than councilgraph's own cost", async () => {
    for (const query of await readmeExamples()) {
      sent.length = 0;
      const res = await askHive(gateway, query);
      const name = query.replace(/\s+/g, ' ').slice(0, 80);
      assert.deepEqual(res.errors ?? [], [], name);
      const reckoned = sent.filter((s) => s.subgraph === 'councilgraph')
        .reduce((sum, s) => sum + s.extensions.costLimit.reckoned, 0);
      const estimated = res.extensions.cost.estimated;
      console.log(`Hive Gateway ${estimated}, councilgraph ${reckoned}: ${name}`);
      assert.ok(estimated >= reckoned, `Hive Gateway estimates ${estimated}, councilgraph reckons ${reckoned}: ${name}`);
    }
  });

  test('refuses, before councilgraph sees it, what councilgraph would refuse', async () => {
    const query = '{ bodies(first: 100) { edges { node { memberships { person { memberships { body { name } } } } } } } }';
    const direct = await (await fetch(cg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    })).json();
    assert.match(direct.errors?.[0]?.message ?? '', /^operation has cost \d+, which exceeds the limit of \d+/);
    sent.length = 0;
    const res = await askHive(gateway, query);
    assert.equal(res.errors?.[0]?.extensions?.code, 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.ok(res.errors[0].extensions.cost.estimated > ceiling);
    assert.deepEqual(sent, [], 'no subgraph was asked');
  });
});

test("Hive Gateway's response cache answers a repeated query without asking councilgraph", async () => {
  const gateway = createHiveGateway(supergraphSdl, { logging: false, cacheTtlMs: 60_000 });
  try {
    const query = '{ areas { id name } }';
    sent.length = 0;
    const first = await askHive(gateway, query);
    assert.equal(sent.length, 1);
    sent.length = 0;
    const second = await askHive(gateway, query);
    assert.deepEqual(second.data, first.data);
    assert.deepEqual(sent, [], 'answered from the cache');
  } finally {
    await gateway[Symbol.asyncDispose]();
  }
});

test("councilgraph's POST answers tell a router's cache what it may keep", async () => {
  const res = await fetch(cg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ areas { name } }' }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('cache-control'), /^public, max-age=\d+$/);
  assert.match(res.headers.get('vary'), /Authorization/);
  assert.match(res.headers.get('etag'), /^"[0-9a-f]+"$/);
});
