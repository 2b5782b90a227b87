// The pages as a person sees them, in headless Chromium: Debian's chromium
// package (/usr/bin/chromium, which .ci/run installs where it is missing)
// driven by playwright-core, never a browser a tool downloads. Each test
// writes its screenshots to docs/screenshots/, the pictures the docs show:
// taken of what the tests check, they cannot drift from what a person sees.
// Commit them when they change.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { post, repoRoot, startCouncilgraph } from '../lib/councilgraph.js';

const shots = join(repoRoot, 'docs', 'screenshots');
let cg;
let browser;

before(async () => {
  if (!existsSync('/usr/bin/chromium')) {
    throw new Error("the browser tests need Debian's chromium at /usr/bin/chromium: apt-get install chromium (bash .ci/run does)");
  }
  await mkdir(shots, { recursive: true });
  cg = await startCouncilgraph();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await cg?.stop();
});

// open makes a page that records every request it makes, every console
// error and every Content-Security-Policy violation.
async function open(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { context, page, requests, problems };
}

// outside lists the requests that left the service (data: URLs stay in
// the page).
function outside(requests) {
  return requests.filter((u) => !u.startsWith(cg.base + '/') && !u.startsWith('data:'));
}

test('the explorer opens on the README examples, its panel open and the first answer shown', async () => {
  const { context, page, requests, problems } = await open();
  const res = await page.goto(cg.base + '/');
  assert.match(res.headers()['content-security-policy'], /default-src 'self'/);
  await page.locator('.graphiql-container').waitFor();
  // One tab per README example, titled by its operation name.
  const examples = JSON.parse(await readFile(join(repoRoot, 'explorer', 'static', 'examples.json'), 'utf8'));
  const titles = page.locator('.graphiql-tab-button');
  await titles.first().waitFor();
  assert.deepEqual(await titles.allInnerTexts(), examples.map((e) => e.name));
  // The first tab holds the README's first example, and its answer is
  // there without a click.
  const editor = page.locator('.graphiql-query-editor');
  await editor.getByText('body:stockton-on-tees/cyp-select-committee').first().waitFor();
  const result = page.locator('.graphiql-response');
  await result.getByText('"memberships"').first().waitFor({ timeout: 20_000 });
  assert.match(await result.innerText(), /"name": "Children & Young People Select Committee"/);
  // The explorer panel is open (its sidebar button offers to hide it),
  // wide enough to read, showing the schema's root fields.
  await page.getByRole('button', { name: 'Hide GraphiQL Explorer' }).waitFor();
  const panel = page.locator('.graphiql-explorer-root').first();
  await panel.getByText('indicators', { exact: true }).first().waitFor();
  const box = await panel.boundingBox();
  assert.ok(box && box.width > 200, `the explorer panel is ${box?.width}px wide`);
  await page.screenshot({ path: join(shots, 'explorer.png') });
  assert.deepEqual(outside(requests), [], 'requests outside the service');
  assert.deepEqual(problems, [], 'console errors or CSP violations');
  assert.ok(requests.some((u) => u === cg.base + '/graphql'), 'the query went to /graphql');

  // Another tab runs its own example when asked.
  await titles.nth(1).click();
  await editor.getByText('meeting:stockton-on-tees/cabinet/2023-06-15').first().waitFor();
  await page.locator('.graphiql-execute-button').click();
  await result.getByText('"agendaItems"').first().waitFor({ timeout: 20_000 });
  await context.close();
});

test('the indicator list shows every indicator with its latest figure, comparison and trend', async () => {
  for (const [name, viewport] of [['indicators.png', { width: 1280, height: 900 }], ['indicators-phone.png', { width: 390, height: 844 }]]) {
    const { context, page, requests, problems } = await open(viewport);
    await page.goto(cg.base + '/indicators');
    const rows = page.locator('#indicators tbody tr');
    await rows.first().waitFor();
    const { data } = await post(cg.url, '{ indicators { totalCount } }');
    assert.equal(await rows.count(), data.indicators.totalCount);
    const row = rows.filter({ hasText: 'Assessments completed within 45 days' });
    assert.match(await row.innerText(), /94%[\s\S]*better[\s\S]*North East \(82%\)[\s\S]*cannot be calculated/i);
    await page.screenshot({ path: join(shots, name) });
    assert.deepEqual(outside(requests), []);
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test('an indicator page draws one series per area and its CSV link downloads the figures', async () => {
  const { context, page, requests, problems } = await open();
  await page.goto(cg.base + '/indicators/indicator:assessments-within-45-days');
  const chart = page.locator('#chart[data-drawn]');
  await chart.waitFor();
  assert.equal(await chart.getAttribute('data-series'), 'area:E06000004 area:E12000001');
  // uPlot's legend: the x series, then one row per area.
  const series = page.locator('#chart .u-legend .u-series .u-label');
  assert.deepEqual((await series.allInnerTexts()).slice(1), ['Stockton-on-Tees', 'North East']);
  // Something was drawn: the plot's canvas has coloured pixels.
  const inked = await page.evaluate(() => {
    const c = document.querySelector('#chart canvas');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && !(px[i] > 240 && px[i + 1] > 240 && px[i + 2] > 240)) n++;
    return n;
  });
  assert.ok(inked > 500, `the chart's canvas has ${inked} inked pixels`);
  assert.match(await page.locator('body').innerText(), /Higher is better/);
  // Every figure links to its source document and lines.
  const source = page.locator('#figures a[href^="/sources/"]').first();
  assert.equal(await source.getAttribute('href'), '/sources/cyp-select-committee-2021-02-17-overview-report.txt?lines=234-234#L234');
  await page.screenshot({ path: join(shots, 'indicator.png'), fullPage: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('.downloads a', { hasText: 'CSV' }).first().click(),
  ]);
  assert.match(download.suggestedFilename(), /^councilgraph-observations-analysis-indicator-assessments-within-45-days-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = await readFile(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines.length, 3, csv);
  assert.match(lines[0], /^observation_id,indicator_id,indicator_name,unit,polarity,area_id,/);
  assert.match(csv, /area:E06000004,Stockton-on-Tees,LOCAL_AUTHORITY,,,,94,,false,/);

  await source.click();
  await page.locator('#L234.marked').waitFor();
  await page.screenshot({ path: join(shots, 'source.png') });
  assert.deepEqual(outside(requests), []);
  assert.deepEqual(problems, []);
  await context.close();
});
