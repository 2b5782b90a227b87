// GraphQL over HTTP: graphql-http's server audits against councilgraph's
// /graphql. Every audit is printed; a failed MUST (error) or SHOULD (warning)
// fails the suite, a failed MAY (notice) is printed only.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { serverAudits } from 'graphql-http';

import { startCouncilgraph } from '../lib/councilgraph.js';

let cg;

before(async () => {
  cg = await startCouncilgraph();
});

after(async () => {
  await cg?.stop();
});

const results = [];

// politeFetch is fetch that, like any well-behaved client, waits out a 429
// (councilgraph limits each address's requests a second) and asks again, so
// that the audits see the answers to their requests, not the rate limit.
async function politeFetch(input, init) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(input, init);
    if (res.status !== 429 || attempt === 10) return res;
    await res.arrayBuffer();
    const seconds = Number(res.headers.get('retry-after')) || 1;
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
}

for (const audit of serverAudits({ url: () => cg.url, fetchFn: politeFetch })) {
  test(`${audit.id} ${audit.name}`, async (t) => {
    const result = await audit.fn();
    results.push(result);
    let detail = '';
    if (result.status !== 'ok') {
      const res = result.response;
      detail = ` (${result.reason}; got ${res.status} ${res.headers.get('content-type')}: ${await res.text()})`;
    }
    t.diagnostic(`${result.status}${detail}`);
    if (result.status === 'notice') return;
    assert.equal(result.status, 'ok', `${audit.id} ${audit.name}${detail}`);
  });
}

test('audit summary', () => {
  const count = (status) => results.filter((r) => r.status === status).length;
  console.log(`graphql-http audits: ${count('ok')} ok, ${count('warn')} warnings, ${count('error')} errors, ${count('notice')} notices`);
  for (const r of results) console.log(`  ${r.status.padEnd(6)} ${r.id} ${r.name}`);
  assert.equal(results.length, serverAudits({ url: '' }).length, 'every audit ran');
});
