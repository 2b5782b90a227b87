// Composition and query planning: councilgraph's _service { sdl } and the
// example NHS trust subgraph (examples/supergraph/) compose with
// @apollo/composition, and two gateways, @apollo/gateway and Hive Gateway (as
// the example serves it), run the same queries across both subgraphs, in each
// direction, with the answers, the subgraph requests and their costs asserted.
// Where the gateways differ, lib/gateways.js says how, and the tests hold
// each to its own behaviour.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';

import { composeSupergraph, councilgraphSDL } from '../../examples/supergraph/compose.js';
import { createGateway as createHiveGateway } from '../../examples/supergraph/gateway.js';
import { startNHS } from '../../examples/supergraph/nhs.js';
import { post, repoRoot, startCouncilgraph } from '../lib/councilgraph.js';
import { askHive, gateways } from '../lib/gateways.js';
import { startRecorder } from '../lib/recorder.js';

// Every request a gateway sends to a subgraph, as the recorders in front of
// the subgraphs saw it, with the extensions of the subgraph's answer
// (councilgraph's extensions.cost among them).
const sent = [];

// 200 distinct council records for the partner to cite: 100 people, 40
// organisations and 60 indicators, interleaved, by ID from the data set.
async function citations() {
  const ids = async (file, prefix, n) => {
    const text = await readFile(join(repoRoot, 'data', 'stockton', file), 'utf8');
    const found = [...text.matchAll(/^- id: (\S+)$/gm)].map((m) => m[1]);
    assert.ok(found.length >= n && found.every((id) => id.startsWith(prefix)), `${file} has ${n} ${prefix} IDs`);
    return found.slice(0, n);
  };
  const lists = [
    (await ids('people.yaml', 'person:', 100)).map((id) => ({ __typename: 'Person', id })),
    (await ids('organisations.yaml', 'organisation:', 40)).map((id) => ({ __typename: 'Organisation', id })),
    (await ids('indicators.yaml', 'indicator:', 60)).map((id) => ({ __typename: 'Indicator', id })),
  ];
  const out = [];
  for (let i = 0; out.length < 200; i++) {
    for (const l of lists) if (i < l.length) out.push(l[i]);
  }
  return out;
}

// A person and an organisation that councilgraph does not have.
const unknown = [
  { __typename: 'Person', id: 'person:stockton-on-tees/no-such-person' },
  { __typename: 'Organisation', id: 'organisation:no-such-organisation' },
];

let cg;
let nhs;
let cited;
// What the NHS subgraph's Query.citations answers: the 200 records (the
// error tests swap in others for a query, and put them back).
const citing = [];
let supergraphSdl;
const recorders = [];

before(async () => {
  cited = await citations();
  // The snapshot off: what is checked here is how the gateways' requests
  // batch into the database's finds, which reads from the snapshot never
  // send (store/snapshot.go; the Go tests hold both paths to one answer).
  cg = await startCouncilgraph(['--snapshot-size', '0']);
  citing.push(...cited);
  nhs = await startNHS(citing);
  const cgRecorder = await startRecorder('councilgraph', cg.url, sent);
  const nhsRecorder = await startRecorder('nhs', nhs.url, sent);
  recorders.push(cgRecorder, nhsRecorder);

  const composed = composeSupergraph({
    councilgraph: { url: cgRecorder.url, sdl: await councilgraphSDL(cg.url) },
    nhs: { url: nhsRecorder.url },
  });
  for (const hint of composed.hints) console.log(`composition hint: ${hint.code}: ${hint.message}`);
  supergraphSdl = composed.supergraphSdl;
});

after(async () => {
  for (const r of recorders) await r.stop();
  await nhs?.stop();
  await cg?.stop();
});

test('the supergraph joins Organisation across both subgraphs', () => {
  assert.match(supergraphSdl, /type Organisation implements Node\s+@join__implements\(graph: COUNCILGRAPH, interface: "Node"\)\s+@join__type\(graph: COUNCILGRAPH, key: "id"\)\s+@join__type\(graph: NHS, key: "id"\)/);
  assert.match(supergraphSdl, /nhsTrust: Trust @join__field\(graph: NHS\)/);
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

    // run sends a query through the gateway and returns its whole answer;
    // sent then holds the subgraph requests it made.
    const run = async (query, variables) => {
      sent.length = 0;
      return gateway.run(query, variables);
    };

    // gql runs a query, fails on any error, and returns its data.
    const gql = async (query, variables) => {
      const { data, errors } = await run(query, variables);
      assert.deepEqual(errors ?? [], [], 'gateway errors');
      return data;
    };

    test('partner → councilgraph: trusts with their organisations and safeguarding leads', async () => {
      const data = await gql(`{
        trusts {
          odsCode
          organisation { id name kind }
          safeguardingLead { id name jobTitle organisation { name } }
        }
      }`);
      assert.deepEqual(data, {
        trusts: [
          {
            odsCode: 'RTR',
            organisation: { id: 'organisation:south-tees-hospitals-nhs-foundation-trust', name: 'South Tees Hospitals NHS Foundation Trust', kind: 'NHS_TRUST' },
            safeguardingLead: { id: 'person:teeswide-safeguarding-adults-board/lindsay-britton-robertson', name: 'Lindsay Britton-Robertson', jobTitle: 'Assistant Director of Safeguarding', organisation: { name: 'South Tees Hospitals NHS Foundation Trust' } },
          },
          {
            odsCode: 'RVW',
            organisation: { id: 'organisation:north-tees-and-hartlepool-nhs-foundation-trust', name: 'North Tees and Hartlepool NHS Foundation Trust', kind: 'NHS_TRUST' },
            safeguardingLead: { id: 'person:teeswide-safeguarding-adults-board/kathleen-fitzwater', name: 'Kathleen Fitzwater', jobTitle: 'Named Nurse in Adult Safeguarding', organisation: { name: 'North Tees and Hartlepool NHS Foundation Trust' } },
          },
          {
            odsCode: 'RX3',
            organisation: { id: 'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust', name: 'Tees, Esk and Wear Valleys NHS Foundation Trust', kind: 'NHS_TRUST' },
            safeguardingLead: { id: 'person:teeswide-safeguarding-adults-board/karen-agar', name: 'Karen Agar', jobTitle: 'Associate Director of Nursing Safeguarding', organisation: { name: 'Tees, Esk and Wear Valleys NHS Foundation Trust' } },
          },
          {
            odsCode: 'RX6',
            organisation: { id: 'organisation:north-east-ambulance-service', name: 'North East Ambulance Service', kind: 'NHS_TRUST' },
            safeguardingLead: null,
          },
        ],
      });
      assert.deepEqual(sent.map((s) => s.subgraph).sort(), gw.trustsRequests, 'one fetch from the partner, then councilgraph for organisations and for people');
      const toCouncilgraph = sent.filter((s) => s.subgraph === 'councilgraph');
      assert.ok(toCouncilgraph.every((s) => /_entities\(representations:/.test(s.query)), 'councilgraph is asked through _entities');
      assert.deepEqual(representations(toCouncilgraph).map((r) => r.id).sort(), [
        'organisation:north-east-ambulance-service',
        'organisation:north-tees-and-hartlepool-nhs-foundation-trust',
        'organisation:south-tees-hospitals-nhs-foundation-trust',
        'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust',
        'person:teeswide-safeguarding-adults-board/karen-agar',
        'person:teeswide-safeguarding-adults-board/kathleen-fitzwater',
        'person:teeswide-safeguarding-adults-board/lindsay-britton-robertson',
      ], 'each organisation and person once');
    });

    test('councilgraph → partner: NHS trust organisations with their ODS codes', async () => {
      const data = await gql(`{
        organisations(kind: NHS_TRUST) { edges { node { id name nhsTrust { odsCode } } } }
        council: organisation(id: "organisation:stockton-on-tees-borough-council") { name kind nhsTrust { odsCode } }
      }`);
      assert.deepEqual(data, {
        organisations: {
          edges: [
            { node: { id: 'organisation:north-east-ambulance-service', name: 'North East Ambulance Service', nhsTrust: { odsCode: 'RX6' } } },
            { node: { id: 'organisation:north-tees-and-hartlepool-nhs-foundation-trust', name: 'North Tees and Hartlepool NHS Foundation Trust', nhsTrust: { odsCode: 'RVW' } } },
            { node: { id: 'organisation:south-tees-hospitals-nhs-foundation-trust', name: 'South Tees Hospitals NHS Foundation Trust', nhsTrust: { odsCode: 'RTR' } } },
            { node: { id: 'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust', name: 'Tees, Esk and Wear Valleys NHS Foundation Trust', nhsTrust: { odsCode: 'RX3' } } },
          ],
        },
        council: { name: 'Stockton-on-Tees Borough Council', kind: 'LOCAL_AUTHORITY', nhsTrust: null },
      });
      assert.deepEqual(sent.map((s) => s.subgraph), gw.organisationsRequests, 'one fetch from councilgraph, then the partner for nhsTrust');
      assert.deepEqual(representations(sent.filter((s) => s.subgraph === 'nhs')).map((r) => r.id).sort(), [
        'organisation:north-east-ambulance-service',
        'organisation:north-tees-and-hartlepool-nhs-foundation-trust',
        'organisation:south-tees-hospitals-nhs-foundation-trust',
        'organisation:stockton-on-tees-borough-council',
        'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust',
      ], 'the partner is asked about the four trusts and the council');
    });

    test("councilgraph → partner → councilgraph: the partners' page's two-way query", async () => {
      const data = await gql(`{
        person(id: "person:teeswide-safeguarding-adults-board/hilary-lloyd") {
          name jobTitle
          organisation { name nhsTrust { odsCode safeguardingLead { name jobTitle } } }
        }
      }`);
      assert.deepEqual(data, {
        person: {
          name: 'Hilary Lloyd',
          jobTitle: 'Chief Nurse',
          organisation: {
            name: 'South Tees Hospitals NHS Foundation Trust',
            nhsTrust: { odsCode: 'RTR', safeguardingLead: { name: 'Lindsay Britton-Robertson', jobTitle: 'Assistant Director of Safeguarding' } },
          },
        },
      });
      assert.deepEqual(sent.map((s) => s.subgraph), gw.twoWayRequests);
    });

    test('200 cited entities: one request to councilgraph, one find per entity type', async () => {
      const data = await gql(`{
        citations {
          __typename
          ... on Person { id name jobTitle }
          ... on Organisation { id name kind }
          ... on Indicator { id name unit }
        }
      }`);
      assert.equal(data.citations.length, 200);

      // The same records, asked of councilgraph directly, in the same order.
      const direct = await post(cg.url, `query($ids: [ID!]!) { nodes(ids: $ids) {
        __typename
        ... on Person { id name jobTitle }
        ... on Organisation { id name kind }
        ... on Indicator { id name unit }
      } }`, { ids: cited.map((c) => c.id) });
      assert.deepEqual(data.citations, direct.data.nodes);
      assert.ok(data.citations.every((c) => c !== null && c.name), 'every citation resolved');

      const toCouncilgraph = sent.filter((s) => s.subgraph === 'councilgraph');
      assert.equal(toCouncilgraph.length, 1, 'requests to councilgraph');
      const [entities] = toCouncilgraph;
      assert.equal(entities.query.match(/_entities\(representations:/g)?.length, gw.entitiesFields, '_entities fields in the request');
      assert.deepEqual(representations(toCouncilgraph).map((r) => r.id).sort(), cited.map((c) => c.id).sort());
      assert.deepEqual(entities.extensions.cost, {
        mongoRoundTrips: 3,
        mongoCommands: { 'find indicators': 1, 'find organisations': 1, 'find people': 1 },
      });
    });

    test("councilgraph's errors reach the client with its code and the subgraph's name", async () => {
      const res = await run('{ organisations(first: -1) { edges { node { id } } } }');
      assert.deepEqual(res, {
        data: null,
        errors: [{
          message: 'first must be between 1 and 100, got -1',
          path: ['organisations'],
          extensions: { argument: 'first', code: 'BAD_USER_INPUT', serviceName: 'councilgraph' },
        }],
      });
    });

    test("a representation councilgraph refuses: its error is passed on, the batch's fields are null", async () => {
      const saved = citing.splice(0, citing.length, { __typename: 'Person', id: 'person:teeswide-safeguarding-adults-board/karen-agar' }, { __typename: 'Person', id: '' });
      let res;
      try {
        res = await run('{ citations { __typename ... on Person { id jobTitle } } }');
      } finally {
        citing.splice(0, citing.length, ...saved);
      }
      assert.deepEqual(res.data, {
        citations: [
          { __typename: 'Person', id: 'person:teeswide-safeguarding-adults-board/karen-agar', jobTitle: null },
          { __typename: 'Person', id: '', jobTitle: null },
        ],
      });
      assert.deepEqual(res.errors, gw.refusedPaths.map((path) => ({
        message: 'representations[1]: id must be a non-empty string',
        path,
        extensions: { argument: 'representations', code: 'BAD_USER_INPUT', serviceName: 'councilgraph' },
      })));
    });

    test('an entity councilgraph does not have: each gateway says so its own way', async () => {
      const query = '{ citations { __typename ... on Person { id name } ... on Organisation { id name } } }';
      const saved = citing.splice(0, citing.length, { __typename: 'Person', id: 'person:teeswide-safeguarding-adults-board/karen-agar' }, ...unknown);
      try {
        const res = await run(query);
        assert.deepEqual(res, gw.unknownEntity);
      } finally {
        citing.splice(0, citing.length, ...saved);
      }
      assert.deepEqual(representations(sent.filter((s) => s.subgraph === 'councilgraph')).map((r) => r.id).sort(),
        ['organisation:no-such-organisation', 'person:stockton-on-tees/no-such-person', 'person:teeswide-safeguarding-adults-board/karen-agar'], 'all three were asked for');
    });
  });
}

test("with a key, the example's gateway reads councilgraph as that partner, and sends the key to no other subgraph", async () => {
  const key = cg.createKey('Example supergraph', 'partner');
  const partner = createHiveGateway(supergraphSdl, { logging: false, councilgraphKey: key });
  const anonymous = createHiveGateway(supergraphSdl, { logging: false });
  const query = `{
    person(id: "person:stockton-on-tees/judy-trainer") { name email }
    council: organisation(id: "organisation:stockton-on-tees-borough-council") { name nhsTrust { odsCode } }
  }`;
  try {
    sent.length = 0;
    assert.deepEqual(await askHive(partner, query), {
      data: {
        person: { name: 'Judy Trainer', email: 'judy.trainer@stockton.gov.uk' },
        council: { name: 'Stockton-on-Tees Borough Council', nhsTrust: null },
      },
    });
    assert.deepEqual(sent.map((s) => [s.subgraph, s.authorization]), [['councilgraph', `Bearer ${key}`], ['nhs', undefined]]);

    sent.length = 0;
    assert.deepEqual(await askHive(anonymous, query), {
      data: {
        person: { name: 'Judy Trainer', email: null },
        council: { name: 'Stockton-on-Tees Borough Council', nhsTrust: null },
      },
    });
    assert.deepEqual(sent.map((s) => [s.subgraph, s.authorization]), [['councilgraph', undefined], ['nhs', undefined]]);
  } finally {
    await partner[Symbol.asyncDispose]();
    await anonymous[Symbol.asyncDispose]();
  }
});

test("npm start in examples/supergraph answers the partners' page's two-way query through Hive Gateway", async (t) => {
  // The query as docs/partners.md's Federation section gives it.
  const page = await readFile(join(repoRoot, 'docs', 'partners.md'), 'utf8');
  const query = page.match(/one query then walks both graphs either way:\s+```graphql router\n([^`]+)```/)?.[1];
  assert.ok(query, "docs/partners.md's two-way query");

  // The example's own command, on the councilgraph already running here
  // (COUNCILGRAPH_URL), on a free port.
  // In its own process group, so that a signal reaches npm and node both,
  // as Ctrl-C in a terminal does.
  const child = spawn('npm', ['start', '--silent'], {
    cwd: join(repoRoot, 'examples', 'supergraph'),
    env: { ...process.env, COUNCILGRAPH_URL: cg.url, PORT: '0', GATEWAY_LOGGING: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = once(child, 'exit');
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group has gone
    }
  };
  t.after(() => signalGroup('SIGKILL'));
  const output = [];
  child.stderr.on('data', (d) => output.push(String(d)));
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      const m = line.match(/^Hive Gateway: (\S+)$/);
      if (m) resolve(m[1]);
    });
    exited.then(([code]) => reject(new Error(`npm start exited (${code}):\n${output.join('\n')}`)));
  });

  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  // The example's gateway budgets each operation (extensions.cost, Hive
  // Gateway's demand control) before it asks any subgraph.
  assert.equal(typeof body.extensions?.cost?.estimated, 'number');
  assert.ok(body.extensions.cost.estimated <= body.extensions.cost.max, JSON.stringify(body.extensions));
  assert.deepEqual({ data: body.data }, {
    data: {
      person: {
        name: 'Hilary Lloyd',
        organisation: {
          name: 'South Tees Hospitals NHS Foundation Trust',
          nhsTrust: { odsCode: 'RTR', safeguardingLead: { name: 'Lindsay Britton-Robertson', jobTitle: 'Assistant Director of Safeguarding' } },
        },
      },
    },
  });

  // Ctrl-C stops it all: npm ends by the signal, as it does, and node and
  // the NHS subgraph it started are gone within five seconds.
  const nhsURL = output.join('\n').match(/^NHS trust subgraph: (\S+)$/m)?.[1];
  assert.ok(nhsURL, 'the NHS subgraph says where it listens');
  signalGroup('SIGINT');
  const [code, signal] = await exited;
  assert.ok(code === 0 || signal === 'SIGINT', `npm start ended with ${code ?? signal}`);
  const deadline = Date.now() + 5000;
  while (groupAlive(child.pid)) {
    assert.ok(Date.now() < deadline, `npm start's processes still running 5 s after Ctrl-C:\n${output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await assert.rejects(fetch(nhsURL, { method: 'POST' }), 'the NHS subgraph has stopped');
  await assert.rejects(fetch(url, { method: 'POST' }), 'the gateway has stopped');
});

// groupAlive says whether any process of the group led by pid is running.
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// representations returns the _entities representations of the requests, in
// the order recorded and, within a request, of its variables.
function representations(requests) {
  return requests.flatMap((s) => Object.entries(s.variables ?? {})
    .filter(([name]) => /representations$/.test(name))
    .flatMap(([, reps]) => reps));
}
