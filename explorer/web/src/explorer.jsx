// The explorer at /: GraphiQL with the explorer plugin, talking to this
// service's /graphql, with the README's example queries as its first tabs.
// Everything it loads comes from this service (see build.mjs).
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './explorer.css';

const fetcher = createGraphiQLFetcher({ url: new URL('/graphql', window.location.href).href });
const explorer = explorerPlugin();

async function main() {
  let tabs = [];
  try {
    const res = await fetch('/assets/examples.json');
    const examples = await res.json();
    tabs = examples.map((e) => ({ query: `# ${e.title}\n${e.query}` }));
  } catch {
    // The explorer works without its examples.
  }
  createRoot(document.getElementById('graphiql')).render(
    <GraphiQL fetcher={fetcher} plugins={[explorer]} defaultTabs={tabs} defaultEditorToolsVisibility />,
  );
}

main();
