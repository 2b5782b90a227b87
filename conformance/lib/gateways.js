// The gateways the federation checks run the same queries through:
// @apollo/gateway, and Hive Gateway as examples/supergraph serves it. Each
// entry also says what that gateway does differently, as the tests found it
// against councilgraph; test/federation.test.js asserts those fields.

import assert from 'node:assert/strict';

import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';

import { createGateway as createHiveGateway } from '../../examples/supergraph/gateway.js';

/**
 * The gateways under test: start(supergraphSdl) returns run(query,
 * variables), which answers with the response's plain JSON body, and stop().
 * The other fields are what each does differently.
 */
export const gateways = [
  {
    name: 'Apollo Gateway',
    async start(supergraphSdl) {
      const server = new ApolloServer({
        gateway: new ApolloGateway({ supergraphSdl }),
        includeStacktraceInErrorResponses: false,
      });
      await server.start();
      return {
        async run(query, variables) {
          const res = await server.executeOperation({ query, variables });
          assert.equal(res.body.kind, 'single');
          return JSON.parse(JSON.stringify(res.body.singleResult));
        },
        stop: () => server.stop(),
      };
    },
    // Each fetch of a query plan is its own request: the trusts'
    // organisations and their safeguarding leads are two, and so are the
    // partner's fields on two root fields' organisations.
    trustsRequests: ['councilgraph', 'councilgraph', 'nhs'],
    organisationsRequests: ['councilgraph', 'nhs', 'nhs'],
    // The README's two-way query: the person and organisation, the trust,
    // its safeguarding lead.
    twoWayRequests: ['councilgraph', 'nhs', 'councilgraph'],
    // Entities of several types go in one _entities field.
    entitiesFields: 1,
    // An entity that councilgraph answers null for (an unknown ID) leaves its
    // non-null fields null: data is null, and the reasons are only in
    // extensions.valueCompletion, with no errors at all.
    unknownEntity: {
      data: null,
      extensions: {
        valueCompletion: [
          { message: 'Cannot return null for non-nullable field Person.name.', path: ['citations', 1, 'name'], extensions: { code: 'INVALID_GRAPHQL' } },
          { message: 'Cannot return null for non-nullable field Organisation.name.', path: ['citations', 2, 'name'], extensions: { code: 'INVALID_GRAPHQL' } },
        ],
      },
    },
    // councilgraph's error on a whole _entities request comes once, at a
    // path of Apollo's own notation for "every element" (not a path of the
    // response).
    refusedPaths: [['citations', '@', '_entities']],
  },
  {
    name: 'Hive Gateway',
    async start(supergraphSdl) {
      const gateway = createHiveGateway(supergraphSdl, { logging: false });
      return {
        run: (query, variables) => askHive(gateway, query, variables),
        stop: () => gateway[Symbol.asyncDispose](),
      };
    },
    // Fetches to one subgraph that can go together are merged into one
    // request, each under an alias (_v0__entities, _v1__entities).
    trustsRequests: ['councilgraph', 'nhs'],
    organisationsRequests: ['councilgraph', 'nhs'],
    // The same, with one more request to councilgraph first: once any
    // entity of the supergraph has a second key (Area's code), Hive
    // Gateway 2.15 asks councilgraph again for the person's organisation
    // through _entities before it asks the trust service.
    twoWayRequests: ['councilgraph', 'councilgraph', 'nhs', 'councilgraph'],
    // One _entities field per entity type, in the same request.
    entitiesFields: 3,
    // The same null is an error, at the first field it reaches, with its
    // message masked (the gateway's own errors are, by default).
    unknownEntity: {
      data: null,
      errors: [
        { message: 'Unexpected error.', locations: [{ line: 1, column: 45 }], path: ['citations', 1, 'name'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      ],
    },
    // The same error comes once for each entity of the request, at the
    // field's path without the list index (not a path of the response).
    refusedPaths: [['citations', 'jobTitle'], ['citations', 'jobTitle']],
  },
];

/**
 * askHive posts a query to a Hive Gateway runtime through its fetch handler
 * and returns the response's JSON body.
 */
export async function askHive(gateway, query, variables) {
  const res = await gateway.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}
