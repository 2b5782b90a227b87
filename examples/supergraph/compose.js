// Composition: councilgraph's schema, read from the running service with
// { _service { sdl } }, and the NHS trust subgraph's, composed into one
// supergraph with @apollo/composition. Both gateways read the result.

import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

import { typeDefs as icbTypeDefs } from './icb.js';
import { typeDefs as nhsTypeDefs } from './nhs.js';

/**
 * Reads councilgraph's subgraph schema from its GraphQL endpoint.
 *
 * @param {string} url councilgraph's /graphql
 * @returns {Promise<string>} the SDL that _service { sdl } returns
 */
export async function councilgraphSDL(url) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
  } catch (err) {
    throw new Error(`reading councilgraph's schema from ${url}: ${err.cause?.message ?? err.message}`);
  }
  const body = await res.json().catch(() => null);
  const sdl = body?.data?._service?.sdl;
  if (!res.ok || typeof sdl !== 'string') {
    throw new Error(`reading councilgraph's schema from ${url}: ${res.status} ${JSON.stringify(body)}`);
  }
  return sdl;
}

/**
 * Composes councilgraph and the NHS trust subgraph into a supergraph, and
 * the integrated care board's directory (icb.js) too when given.
 *
 * @param {{councilgraph: {url: string, sdl: string}, nhs: {url: string}, icb?: {url: string}}} subgraphs
 *   where the gateway sends each subgraph's requests, and councilgraph's SDL
 * @returns {{supergraphSdl: string, hints: {code: string, message: string}[]}}
 * @throws {Error} naming every composition error when the schemas do not compose
 */
export function composeSupergraph({ councilgraph, nhs, icb }) {
  const composed = composeServices([
    { name: 'councilgraph', url: councilgraph.url, typeDefs: parse(councilgraph.sdl) },
    { name: 'nhs', url: nhs.url, typeDefs: nhsTypeDefs },
    ...(icb ? [{ name: 'icb', url: icb.url, typeDefs: icbTypeDefs }] : []),
  ]);
  if (composed.errors?.length) {
    throw new Error(`composing the supergraph:\n${composed.errors.map(String).join('\n')}`);
  }
  return {
    supergraphSdl: composed.supergraphSdl,
    hints: composed.hints.map((h) => ({ code: h.definition.code, message: h.message })),
  };
}
