// The gateway: Hive Gateway's runtime over a composed supergraph, as start.js
// serves it and as conformance/ queries it. It comes from
// @graphql-hive/gateway-runtime, the package @graphql-hive/gateway (the
// hive-gateway CLI) runs and re-exports, pinned to the version that CLI
// installs: importing it alone skips the CLI's plugins, a second at start.

import InMemoryLRUCache from '@graphql-mesh/cache-inmemory-lru';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

/**
 * Creates a Hive Gateway over the supergraph. The result is a fetch handler
 * (runtime.fetch(request)) and a Node request listener
 * (http.createServer(runtime)); dispose of it with runtime[Symbol.asyncDispose]().
 *
 * @param {string} supergraphSdl what composeSupergraph returned
 * @param {{logging?: boolean, councilgraphKey?: string, maxCost?: number, cacheTtlMs?: number}} [options]
 *   logging: whether the gateway logs (default true); councilgraphKey: an API
 *   key the gateway sends to councilgraph, and to no other subgraph, so that it
 *   reads as that client (a partner sees PARTNER records and contact details)
 *   and is rate-limited as one client rather than per address; maxCost: the
 *   gateway's own demand control, which estimates each operation from the
 *   supergraph's @cost and @listSize (councilgraph's come from its own cost
 *   rules) and refuses one above maxCost before any subgraph sees it, giving
 *   the estimate in extensions.cost.estimated; cacheTtlMs: Hive Gateway's
 *   response cache, which keeps each query's whole answer that long (one
 *   cache for all the gateway's callers: it reads councilgraph as one
 *   caller)
 */
export function createGateway(supergraphSdl, { logging = true, councilgraphKey, maxCost, cacheTtlMs } = {}) {
  return createGatewayRuntime({
    supergraph: supergraphSdl,
    logging,
    ...(maxCost !== undefined && {
      demandControl: { maxCost, includeExtensionMetadata: true },
    }),
    ...(cacheTtlMs !== undefined && {
      cache: new InMemoryLRUCache(),
      responseCaching: { session: () => null, ttl: cacheTtlMs },
    }),
    ...(councilgraphKey && {
      propagateHeaders: {
        fromClientToSubgraphs: ({ subgraphName }) =>
          subgraphName === 'councilgraph' ? { authorization: `Bearer ${councilgraphKey}` } : {},
      },
    }),
  });
}
