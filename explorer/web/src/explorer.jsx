// The explorer at /: GraphiQL with the explorer plugin, talking to this
// service's /graphql, with the README's example queries as its first tabs,
// each titled by an operation name. A first visit opens on the first
// example with the explorer panel open and the example's answer shown, so
// that the page shows what the service does before anyone types.
// Everything it loads comes from this service (see build.mjs).
import { useEffect, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useEditorContext, useExecutionContext } from '@graphiql/react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { Kind, parse } from 'graphql';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './explorer.css';

const send = createGraphiQLFetcher({ url: new URL('/graphql', window.location.href).href });

// fetcher sends what the editor holds. GraphiQL reads a tab's operation
// name from its editor a moment after the tab changes, so Run pressed at
// once after switching tabs would send the previous tab's name with this
// tab's document, which the service refuses ("operation … not found"). A
// name the document does not have is dropped where the document has one
// operation, which then runs as the spec says.
function fetcher(params, options) {
  if (params.operationName) {
    try {
      const ops = parse(params.query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (ops.length === 1 && ops[0].name?.value !== params.operationName) {
        params = { ...params, operationName: undefined };
      }
    } catch {
      // The service says what is wrong with a document it cannot parse.
    }
  }
  return send(params, options);
}
const explorer = explorerPlugin();

// tab is an example as a tab's query: its title as a comment, and an
// anonymous query given the example's operation name.
function tab(e) {
  const query = e.name && /^\s*\{/.test(e.query) ? e.query.replace(/^(\s*)\{/, `$1query ${e.name} {`) : e.query;
  return { query: `# ${e.title}\n${query}` };
}

// FirstView opens the explorer panel when the page loads, and runs the
// query in the editor once if the page opens on the first example as it was
// built (a first visit, or the tabs left as they were); a visitor's own
// query is never run for them. The panel opens through its sidebar button,
// as a click would: GraphiQL's visiblePlugin prop takes effect after the
// pane's first layout, which has hidden it by then.
function FirstView({ query }) {
  const { queryEditor } = useEditorContext({ nonNull: true });
  const { run } = useExecutionContext({ nonNull: true });
  const ran = useRef(false);
  useEffect(() => {
    const t = setTimeout(() => {
      // The editor keeps the focus: the panel's argument fields take it
      // when they appear unless a text area holds it.
      document.querySelector('.graphiql-query-editor textarea')?.focus();
      document.querySelector(`.graphiql-sidebar button[aria-label="Show ${explorer.title}"]`)?.click();
    }, 0);
    return () => clearTimeout(t);
  }, []);
  useEffect(() => {
    if (ran.current || !queryEditor || !query) return;
    ran.current = true;
    if (queryEditor.getValue() === query) run();
  }, [queryEditor, query, run]);
  return null;
}

async function main() {
  let tabs = [];
  try {
    const res = await fetch('/assets/examples.json');
    const examples = await res.json();
    tabs = examples.map(tab);
  } catch {
    // The explorer works without its examples.
  }
  createRoot(document.getElementById('graphiql')).render(
    <GraphiQL fetcher={fetcher} plugins={[explorer]} defaultTabs={tabs} defaultEditorToolsVisibility>
      <GraphiQL.Toolbar>
        {({ prettify, copy, merge }) => (
          <>
            <FirstView query={tabs[0]?.query} />
            {prettify}
            {merge}
            {copy}
          </>
        )}
      </GraphiQL.Toolbar>
    </GraphiQL>,
  );
}

main();
