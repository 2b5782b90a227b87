// Composition and query planning: councilgraph's _service { sdl } and a
// partner subgraph compose with @apollo/composition, and @apollo/gateway runs
// queries across both, in each direction, with the answers and costs asserted.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { parse } from 'graphql';

import { post, repoRoot, startCouncilgraph } from '../lib/councilgraph.js';
import { startNHS, typeDefs as nhsTypeDefs } from '../lib/nhs.js';

// Every request the gateway sends to a subgraph, with the extensions of the
// subgraph's answer (councilgraph's extensions.cost among them).
const sent = [];

class RecordingDataSource extends RemoteGraphQLDataSource {
  constructor(name, options) {
    super(options);
    this.name = name;
  }

  async didReceiveResponse({ response, request }) {
    sent.push({ subgraph: this.name, query: request.query, variables: request.variables, extensions: response.extensions });
    return response;
  }
}

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

let cg;
let nhs;
let cited;
let supergraphSdl;
let server;

before(async () => {
  cited = await citations();
  cg = await startCouncilgraph();
  nhs = await startNHS(cited);

  const { data } = await post(cg.url, '{ _service { sdl } }');
  const composed = composeServices([
    { name: 'councilgraph', url: cg.url, typeDefs: parse(data._service.sdl) },
    { name: 'nhs', url: nhs.url, typeDefs: nhsTypeDefs },
  ]);
  assert.deepEqual(composed.errors?.map(String) ?? [], [], 'composition errors');
  for (const hint of composed.hints) console.log(`composition hint: ${hint.definition.code}: ${hint.message}`);
  supergraphSdl = composed.supergraphSdl;

  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new RecordingDataSource(name, { url }),
  });
  server = new ApolloServer({ gateway });
  await server.start();
});

after(async () => {
  await server?.stop();
  await nhs?.stop();
  await cg?.stop();
});

// gql runs a query through the gateway, fails on any error, and returns its
// data; sent then holds the subgraph requests it made.
async function gql(query, variables) {
  sent.length = 0;
  const res = await server.executeOperation({ query, variables });
  assert.equal(res.body.kind, 'single');
  const { data, errors } = res.body.singleResult;
  assert.deepEqual(errors ?? [], [], 'gateway errors');
  return JSON.parse(JSON.stringify(data)); // plain objects, for deepEqual
}

test('the supergraph joins Organisation across both subgraphs', () => {
  assert.match(supergraphSdl, /type Organisation implements Node\s+@join__implements\(graph: COUNCILGRAPH, interface: "Node"\)\s+@join__type\(graph: COUNCILGRAPH, key: "id"\)\s+@join__type\(graph: NHS, key: "id"\)/);
  assert.match(supergraphSdl, /nhsTrust: Trust @join__field\(graph: NHS\)/);
});

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
        safeguardingLead: { id: 'person:lindsay-britton-robertson', name: 'Lindsay Britton-Robertson', jobTitle: 'Assistant Director of Safeguarding', organisation: { name: 'South Tees Hospitals NHS Foundation Trust' } },
      },
      {
        odsCode: 'RVW',
        organisation: { id: 'organisation:north-tees-and-hartlepool-nhs-foundation-trust', name: 'North Tees and Hartlepool NHS Foundation Trust', kind: 'NHS_TRUST' },
        safeguardingLead: { id: 'person:kathleen-fitzwater', name: 'Kathleen Fitzwater', jobTitle: 'Named Nurse in Adult Safeguarding', organisation: { name: 'North Tees and Hartlepool NHS Foundation Trust' } },
      },
      {
        odsCode: 'RX3',
        organisation: { id: 'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust', name: 'Tees, Esk and Wear Valleys NHS Foundation Trust', kind: 'NHS_TRUST' },
        safeguardingLead: { id: 'person:karen-agar', name: 'Karen Agar', jobTitle: 'Associate Director of Nursing Safeguarding', organisation: { name: 'Tees, Esk and Wear Valleys NHS Foundation Trust' } },
      },
      {
        odsCode: 'RX6',
        organisation: { id: 'organisation:north-east-ambulance-service', name: 'North East Ambulance Service', kind: 'NHS_TRUST' },
        safeguardingLead: null,
      },
    ],
  });
  assert.deepEqual(sent.map((s) => s.subgraph).sort(), ['councilgraph', 'councilgraph', 'nhs'], 'one fetch from the partner, then councilgraph for organisations and for people');
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
});

test('councilgraph → partner → councilgraph: a person, their trust, and its safeguarding lead', async () => {
  const data = await gql(`{
    person(id: "person:hilary-lloyd") {
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
  assert.deepEqual(sent.map((s) => s.subgraph), ['councilgraph', 'nhs', 'councilgraph']);
});

test('200 cited entities: one _entities request to councilgraph, one find per entity type', async () => {
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
  assert.match(entities.query, /_entities\(representations:/);
  assert.equal(entities.variables.representations.length, 200);
  assert.deepEqual(entities.extensions.cost, {
    mongoRoundTrips: 3,
    mongoCommands: { 'find indicators': 1, 'find organisations': 1, 'find people': 1 },
  });
});
