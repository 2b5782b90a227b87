// Builds the browser assets into ../static, which the Go binary embeds:
//   explorer.js/.css    GraphiQL with the explorer plugin (React), for /
//   indicators.js/.css  the indicator pages, drawn with uPlot
//   examples.json       the README's example queries, the explorer's tabs,
//                       each with a title and an operation name
// Run it through `make explorer-assets` (npm ci first); commit the output.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'static');
const readme = join(here, '..', '..', 'README.md');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

// The README's "Example queries": each ```graphql block with the sentence
// before it as the tab's first line, and an operation name for the tab's
// title (GraphiQL titles a tab by its operation's name, "<untitled>" when it
// has none): the query's own, or the sentence's first three words that say
// something, "A meeting's agenda, the reports put to it" giving
// MeetingAgendaReports.
const text = await readFile(readme, 'utf8');
const section = text.split(/^## Example queries$/m)[1]?.split(/^## /m)[0];
if (!section) throw new Error('README.md has no "## Example queries" section');
const examples = [];
const block = /([^\n]*(?:\n[^\n`]+)*)\n\n```graphql\n([\s\S]*?)```/g;
const filler = new Set(['a', 'an', 'the', 'its', 'their', 'and', 'or', 'with', 'to', 'of', 'for', 'in', 'on',
  'under', 'it', 'them', 'what', 'they', 'one', 'every', 'each']);
function operationName(title, query) {
  const own = /^\s*(?:query|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(query);
  if (own) return own[1];
  const words = title.replace(/'s\b|'/g, '').split(/[^A-Za-z0-9]+/).filter((w) => w && !filler.has(w.toLowerCase()));
  return words.slice(0, 3).map((w) => w[0].toUpperCase() + w.slice(1)).join('') || 'Example';
}
for (const m of section.matchAll(block)) {
  const title = m[1].trim().split('\n\n').pop().replace(/\s+/g, ' ').replace(/:$/, '');
  examples.push({ title, name: operationName(title, m[2]), query: m[2] });
}
if (new Set(examples.map((e) => e.name)).size !== examples.length) {
  throw new Error(`two README examples would share a tab title: ${examples.map((e) => e.name).join(', ')}`);
}
if (examples.length === 0) throw new Error('README.md has no graphql examples');
await writeFile(join(out, 'examples.json'), JSON.stringify(examples, null, 2) + '\n');

await build({
  entryPoints: { explorer: join(here, 'src', 'explorer.jsx'), indicators: join(here, 'src', 'indicators.js') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  loader: { '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'info',
});

for (const page of ['explorer.html', 'indicators.html', 'favicon.svg']) {
  await copyFile(join(here, 'src', page), join(out, page));
}
