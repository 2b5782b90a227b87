// A recording proxy in front of a subgraph: the gateway under test is given
// its address in the supergraph, and every POST it forwards is kept with
// the extensions of the subgraph's answer (councilgraph's extensions.cost
// among them). It sees the wire, so it records any gateway the same way.

import { createServer } from 'node:http';
import { once } from 'node:events';

/**
 * Starts a proxy on a free loopback port that forwards POSTs to target.
 *
 * @param {string} name the subgraph's name, as recorded
 * @param {string} target the subgraph's GraphQL URL
 * @param {{subgraph: string, query: string, variables: object, authorization?: string, extensions: object}[]} sent
 *   where each forwarded request is appended
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startRecorder(name, target, sent) {
  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks).toString('utf8');
      // Kept in the order the gateway sent them; the answer's extensions
      // are filled in when it comes.
      const request = JSON.parse(body);
      const entry = {
        subgraph: name,
        query: request.query,
        variables: request.variables,
        authorization: req.headers.authorization,
        extensions: undefined,
      };
      sent.push(entry);
      const upstream = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          accept: req.headers.accept ?? 'application/json',
          ...(req.headers.authorization && { authorization: req.headers.authorization }),
        },
        body,
      });
      const text = await upstream.text();
      try {
        entry.extensions = JSON.parse(text).extensions;
      } catch {
        // not JSON: recorded without extensions
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`recorder for ${name}: ${err.message}`);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
