// The gateway: Hive Gateway's runtime over a composed supergraph, as start.js
// serves it and as conformance/ queries it. It comes from
// @graphql-hive/gateway-runtime, the package @graphql-hive/gateway (the
// hive-gateway CLI) runs and re-exports, pinned to the version that CLI
// installs: importing it alone skips the CLI's plugins, a second at start.

import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

/**
 * Creates a Hive Gateway over the supergraph. The result is a fetch handler
 * (runtime.fetch(request)) and a Node request listener
 * (http.createServer(runtime)); dispose of it with runtime[Symbol.asyncDispose]().
 *
 * @param {string} supergraphSdl what composeSupergraph returned
 * @param {{logging?: boolean, councilgraphKey?: string}} [options]
 *   logging: whether the gateway logs (default true); councilgraphKey: an API
 *   key the gateway sends to councilgraph, and to no other subgraph, so that it
 *   reads as that client (a partner sees PARTNER records and contact details)
 *   and is rate-limited as one client rather than per address
 */
export function createGateway(supergraphSdl, { logging = true, councilgraphKey } = {}) {
  return createGatewayRuntime({
    supergraph: supergraphSdl,
    logging,
    ...(councilgraphKey && {
      propagateHeaders: {
        fromClientToSubgraphs: ({ subgraphName }) =>
          subgraphName === 'councilgraph' ? { authorization: `Bearer ${councilgraphKey}` } : {},
      },
    }),
  });
}
