// The gateway: Hive Gateway's runtime over a composed supergraph, as start.js
// serves it and as conformance/ queries it.

import { createGatewayRuntime } from '@graphql-hive/gateway';

/**
 * Creates a Hive Gateway over the supergraph. The result is a fetch handler
 * (runtime.fetch(request)) and a Node request listener
 * (http.createServer(runtime)); dispose of it with runtime[Symbol.asyncDispose]().
 *
 * @param {string} supergraphSdl what composeSupergraph returned
 * @param {{logging?: boolean}} [options] logging: whether the gateway logs (default true)
 */
export function createGateway(supergraphSdl, { logging = true } = {}) {
  return createGatewayRuntime({
    supergraph: supergraphSdl,
    logging,
  });
}
