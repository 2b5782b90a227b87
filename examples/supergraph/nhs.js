// A tiny partner subgraph, as an NHS trust service would write it with
// @apollo/subgraph: its own Trust entity, a field of its own on councilgraph's
// Organisation (nhsTrust), and references to councilgraph's Person,
// Organisation and Indicator that the gateway resolves through councilgraph's
// _entities. Its data are example records keyed by real IDs from
// data/stockton/. start.js runs it in the supergraph; conformance/ tests it
// through Apollo Gateway and Hive Gateway.

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  "An NHS trust, as the NHS trust service records it."
  type Trust @key(fields: "odsCode") {
    "Its NHS Organisation Data Service code."
    odsCode: ID!
    "The council's record of the same organisation."
    organisation: Organisation!
    "Who leads its safeguarding of adults: a person in the council's records."
    safeguardingLead: Person
  }

  # councilgraph's organisation, extended with what the trust service knows.
  # (No description here: councilgraph's describes the type in the supergraph.)
  type Organisation @key(fields: "id") {
    id: ID!
    "The NHS trust this organisation is; null when it is not one."
    nhsTrust: Trust
  }

  # councilgraph's person; this service only refers to people.
  type Person @key(fields: "id", resolvable: false) {
    id: ID!
  }

  # councilgraph's performance indicator; this service only refers to them.
  type Indicator @key(fields: "id", resolvable: false) {
    id: ID!
  }

  "A council record that the trust's board papers cite."
  union Citation = Person | Organisation | Indicator

  type Query {
    "The trusts this service knows, by ODS code."
    trusts: [Trust!]!
    "The council records the board papers cite, in the order cited."
    citations: [Citation!]!
  }
`);

/** The trusts, each keyed to its councilgraph organisation. */
export const trusts = [
  { odsCode: 'RTR', organisationId: 'organisation:south-tees-hospitals-nhs-foundation-trust', safeguardingLeadId: 'person:teeswide-safeguarding-adults-board/lindsay-britton-robertson' },
  { odsCode: 'RVW', organisationId: 'organisation:north-tees-and-hartlepool-nhs-foundation-trust', safeguardingLeadId: 'person:teeswide-safeguarding-adults-board/kathleen-fitzwater' },
  { odsCode: 'RX3', organisationId: 'organisation:tees-esk-and-wear-valleys-nhs-foundation-trust', safeguardingLeadId: 'person:teeswide-safeguarding-adults-board/karen-agar' },
  { odsCode: 'RX6', organisationId: 'organisation:north-east-ambulance-service', safeguardingLeadId: null },
];

const byOds = new Map(trusts.map((t) => [t.odsCode, t]));
const byOrganisation = new Map(trusts.map((t) => [t.organisationId, t]));

/**
 * Starts the subgraph on a free loopback port.
 *
 * @param {{__typename: string, id: string}[]} citations what Query.citations returns
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startNHS(citations = []) {
  const resolvers = {
    Query: {
      trusts: () => trusts,
      citations: () => citations,
    },
    Trust: {
      __resolveReference: ({ odsCode }) => byOds.get(odsCode) ?? null,
      organisation: (t) => ({ id: t.organisationId }),
      safeguardingLead: (t) => (t.safeguardingLeadId ? { id: t.safeguardingLeadId } : null),
    },
    Organisation: {
      __resolveReference: ({ id }) => ({ id }),
      nhsTrust: ({ id }) => byOrganisation.get(id) ?? null,
    },
    Citation: {
      __resolveType: (c) => c.__typename,
    },
  };
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs, resolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    // Whoever started it stops it (start.js on Ctrl-C, the tests when done):
    // Apollo Server's own signal handler would end the process first.
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}
