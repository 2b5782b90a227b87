// A second partner subgraph, as an NHS integrated care board's directory of
// GP practices might be written with @apollo/subgraph: it has its own Node
// interface and node field, its own PageInfo and DateTime, as most Relay-style
// services do, and it knows places by GSS code, not by councilgraph's IDs:
// Practice.area refers to councilgraph's Area by its `code` key, and it adds
// the practices in an area to councilgraph's Area by the same key.
//
// Its node is shareable, as councilgraph's is, and a gateway may send a
// node(id:) to either subgraph; Federation composes a shared field only where
// both can return some type in common, and a shared field is meant to answer
// alike wherever it is sent. So this node also answers for councilgraph's
// organisations, by reference (the gateway fetches the rest from
// councilgraph); councilgraph's node answers null for the directory's IDs.
// conformance/test/partners.test.js composes it with councilgraph and runs it
// through Apollo Gateway and Hive Gateway. The practices are made-up examples,
// keyed to the real GSS codes of data/stockton/areas.yaml.

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@inaccessible"])

  "A moment in time in RFC 3339 form."
  scalar DateTime

  "Anything this directory can fetch by its ID."
  interface Node {
    id: ID!
  }

  "Where a page ends and whether more follows."
  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }

  "A GP practice in the board's directory."
  type Practice implements Node @key(fields: "id") {
    "The directory's ID, e.g. practice:A00001."
    id: ID!
    "Its name."
    name: String!
    "The local authority area it is in: councilgraph's area, by GSS code."
    area: Area!
    "When the directory last checked the record."
    checkedAt: DateTime!
  }

  "An edge in a page of practices."
  type PracticeEdge {
    cursor: String!
    node: Practice!
  }

  "A page of practices."
  type PracticeConnection {
    edges: [PracticeEdge!]!
    pageInfo: PageInfo!
  }

  # councilgraph's area, known here by its GSS code: its ID is councilgraph's.
  type Area @key(fields: "code") {
    code: String
    "The GP practices in the area, by name; null for an area without a GSS code."
    practices: [Practice!]
  }

  # councilgraph's organisation: the board's own, which its node also
  # answers for (by reference), as councilgraph's does.
  type Organisation implements Node @key(fields: "id") {
    id: ID!
  }

  type Query {
    "A practice by the directory's ID."
    node(id: ID!): Node @shareable
    "The practices, by name."
    practices(first: Int, after: String): PracticeConnection!
  }
`);

/** The example practices, each in an area by GSS code. */
export const practices = [
  { id: 'practice:A00001', name: 'Example Riverside Surgery', areaCode: 'E06000004', checkedAt: '2024-01-15T09:00:00Z' },
  { id: 'practice:A00002', name: 'Example Norton Medical Centre', areaCode: 'E06000004', checkedAt: '2024-02-01T09:00:00Z' },
  { id: 'practice:A00003', name: 'Example Tyneside Health Centre', areaCode: 'E12000001', checkedAt: '2024-03-04T09:00:00Z' },
];

const byID = new Map(practices.map((p) => [p.id, p]));

/**
 * Starts the subgraph on a free loopback port.
 *
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startICB() {
  const resolvers = {
    Query: {
      node: (_, { id }) => byID.get(id) ?? (id.startsWith('organisation:') ? { __typename: 'Organisation', id } : null),
      practices: (_, { first = 20, after }) => {
        const start = after ? practices.findIndex((p) => p.id === after) + 1 : 0;
        const page = practices.slice(start, start + first);
        return {
          edges: page.map((p) => ({ cursor: p.id, node: p })),
          pageInfo: { hasNextPage: start + first < practices.length, endCursor: page.at(-1)?.id ?? null },
        };
      },
    },
    Node: { __resolveType: (n) => n.__typename ?? 'Practice' },
    Practice: {
      __resolveReference: ({ id }) => byID.get(id) ?? null,
      area: (p) => ({ code: p.areaCode }),
    },
    Area: {
      __resolveReference: ({ code }) => ({ code }),
      practices: ({ code }) => practices.filter((p) => p.areaCode === code),
    },
  };
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs, resolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}
