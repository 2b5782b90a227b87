// The indicator pages: /indicators lists every indicator with its latest
// figure, its comparisons and its trend; /indicators/<id> draws its figures
// over time, one series per area, above a table of every figure with its
// sources. Both read the public GraphQL API at /graphql, as any client
// would, and need no framework: the DOM by hand, the chart by uPlot.
//
// Why uPlot: it is small (about 50 KB), has no dependencies, draws on a
// canvas fast enough for thousands of points on a phone, keeps a plain
// HTML legend a screen reader can read, and needs nothing from outside
// the page (no fonts, no CDN, no eval), so it lives under the pages'
// Content-Security-Policy as it is.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './indicators.css';

const page = document.getElementById('page');
const status = document.getElementById('status');

async function gql(query, variables) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

// el makes an element with attributes and children (strings become text).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const units = {
  COUNT: '', PERCENT: '%', RATE_PER_1K: ' per 1,000', RATE_PER_10K: ' per 10,000', RATE_PER_100K: ' per 100,000',
  DAYS: ' days', WEEKS: ' weeks', GBP: '', RANK: '',
};
function figure(value, unit) {
  const n = Number(value).toLocaleString('en-GB', { maximumFractionDigits: 2 });
  if (unit === 'GBP') return `£${n}`;
  if (unit === 'RANK') return `rank ${n}`;
  return n + (units[unit] ?? '');
}
const polarities = {
  HIGHER_IS_BETTER: 'Higher is better',
  LOWER_IS_BETTER: 'Lower is better',
  NO_JUDGEMENT: 'No polarity: higher or lower is neither better nor worse',
};
const words = {
  BETTER: 'better', SIMILAR: 'similar', WORSE: 'worse', HIGHER: 'higher', LOWER: 'lower', NOT_COMPARED: 'not compared',
  INCREASING: 'increasing', DECREASING: 'decreasing', NO_SIGNIFICANT_CHANGE: 'no significant change', CANNOT_BE_CALCULATED: 'cannot be calculated',
};
const badge = (v, title) => el('span', { class: `badge ${v}`, title }, words[v] ?? v);

// placed puts a period in time, as the server's analysis.Place does: the
// published days where given, else a financial year ('2020/21'), a quarter
// of one ('Q3 2022/23'), a month ('March 2023') or a year ('2021').
// Periods it cannot place sort after the rest, by name.
const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
function placed(o) {
  if (o.periodEnd || o.periodStart) return o.periodEnd || o.periodStart;
  let m = o.period.match(/^Q([1-4]) (\d{4})[/-](\d{2})$/);
  if (m) return `${m[2]}-${String(3 * Number(m[1]) + 3).padStart(2, '0')}-28`;
  m = o.period.match(/^(\d{4})[/-](\d{2})$/);
  if (m) return `${Number(m[1]) + 1}-03-31`;
  m = o.period.match(/^(\w+) (\d{4})$/);
  if (m && months.includes(m[1])) return `${m[2]}-${String(months.indexOf(m[1]) + 1).padStart(2, '0')}-28`;
  m = o.period.match(/^(\d{4})$/);
  if (m) return `${m[1]}-12-31`;
  return null;
}
function byTime(a, b) {
  const pa = placed(a), pb = placed(b);
  if (pa && pb) return pa < pb ? -1 : pa > pb ? 1 : 0;
  if (pa) return -1;
  if (pb) return 1;
  return a.period.localeCompare(b.period);
}

function sourceLinks(sources) {
  return sources.map((s) => {
    const lines = s.locator?.match(/lines? (\d+)(?:\s*-\s*(\d+))?/);
    const href = s.url || `/sources/${encodeURIComponent(s.document)}${lines ? `?lines=${lines[1]}-${lines[2] ?? lines[1]}#L${lines[1]}` : ''}`;
    return el('div', {}, el('a', { href }, s.title || s.document), s.locator ? ` ${s.locator}` : '');
  });
}

const against = { SIMILAR: 'to', NOT_COMPARED: 'with' };
function comparisonsOf(o, withMethod = false) {
  if (!o.comparisons.length) return el('span', { class: 'small' }, 'no comparator published');
  return o.comparisons.map((c) =>
    el('div', {}, badge(c.assessment, c.method), ` ${against[c.assessment] ?? 'than'} ${c.comparator.area.name} (${figure(c.comparator.value, o.unit)})`,
      withMethod ? el('div', { class: 'method' }, c.method) : null));
}

const listQuery = `query Indicators($after: String) {
  indicators(first: 50, after: $after) {
    edges { node {
      id name unit polarity theme
      trend { direction assessment method area { id name } }
      observations { id period periodStart periodEnd value area { id name }
        comparisons { assessment method comparator { value area { name } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function list() {
  document.title = 'Indicators · councilgraph';
  const nodes = [];
  let after = null;
  do {
    const d = await gql(listQuery, { after });
    nodes.push(...d.indicators.edges.map((e) => e.node));
    after = d.indicators.pageInfo.hasNextPage ? d.indicators.pageInfo.endCursor : null;
  } while (after);

  const filter = el('input', { id: 'filter', type: 'search', placeholder: 'Filter by name or theme', 'aria-label': 'Filter indicators' });
  const rows = nodes.map((ind) => {
    const own = ind.observations.filter((o) => !ind.trend.area || o.area.id === ind.trend.area.id);
    const latest = (own.length ? own : ind.observations).slice().sort(byTime).pop();
    const row = el('tr', { 'data-text': `${ind.name} ${ind.theme ?? ''}`.toLowerCase() },
      el('td', { class: 'name', 'data-label': 'Indicator' }, el('a', { href: `/indicators/${encodeURIComponent(ind.id)}` }, ind.name),
        el('div', { class: 'small' }, polarities[ind.polarity])),
      el('td', { 'data-label': 'Theme' }, ind.theme ?? ''),
      el('td', { class: 'num', 'data-label': 'Latest' }, latest ? [figure(latest.value, ind.unit), el('div', { class: 'small' }, [latest.area.name, latest.period].filter(Boolean).join(', '))] : el('span', { class: 'small' }, 'no figures published')),
      el('td', { 'data-label': 'Compared' }, latest ? comparisonsOf({ ...latest, unit: ind.unit }) : ''),
      el('td', { 'data-label': 'Trend' }, badge(ind.trend.direction, ind.trend.method), ' ', ind.trend.direction !== 'CANNOT_BE_CALCULATED' ? badge(ind.trend.assessment, ind.trend.method) : ''),
    );
    return row;
  });
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const r of rows) r.hidden = q !== '' && !r.dataset.text.includes(q);
  });
  page.replaceChildren(
    el('h1', {}, 'Indicators'),
    el('p', { class: 'meta' }, `${nodes.length} indicators. Each figure is read against the comparators published beside it, with the indicator's polarity; hover over a badge for the method it rests on, or open the indicator to read each one.`),
    el('p', { class: 'downloads' }, 'Download every figure with its comparisons and trend: ',
      el('a', { href: '/export/observations-analysis.csv', download: true }, 'CSV'),
      el('a', { href: '/export/observations-analysis.ndjson', download: true }, 'NDJSON'),
      el('a', { href: '/export/indicators.csv', download: true }, 'indicators (CSV)')),
    filter,
    el('table', { id: 'indicators' },
      el('thead', {}, el('tr', {}, ...['Indicator', 'Theme', 'Latest', 'Compared', 'Trend'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows)),
  );
}

const detailQuery = `query Indicator($id: ID!) {
  indicator(id: $id) {
    id name description unit polarity theme notes
    sources { document title locator url }
    trend { direction assessment periods method area { id name } }
    observations {
      id period periodStart periodEnd value valueText approximate lowerCI95 upperCI95 notes
      area { id name kind }
      comparisons { assessment method comparator { value area { name } } }
      sources { document title locator url }
    }
  }
}`;

const palette = ['#0b4f8a', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#be123c', '#0e7490', '#4d7c0f'];

async function detail(id) {
  const { indicator: ind } = await gql(detailQuery, { id });
  if (!ind) {
    page.replaceChildren(el('h1', {}, 'No such indicator'), el('p', {}, `There is no indicator ${id}. `, el('a', { href: '/indicators' }, 'See them all.')));
    return;
  }
  document.title = `${ind.name} · councilgraph`;
  const own = (o) => (o.area.kind === 'LOCAL_AUTHORITY' ? 0 : 1);
  const obs = ind.observations.slice().sort((a, b) => byTime(a, b) || own(a) - own(b));
  // The chart's periods as published; a figure with none printed sits
  // under "(no period)".
  const label = (o) => o.period || '(no period)';
  const periods = [...new Set(obs.map(label))];
  // One series per area, the council's own first.
  const areas = [];
  for (const o of obs) if (!areas.some((a) => a.id === o.area.id)) areas.push(o.area);
  areas.sort((a, b) => (b.kind === 'LOCAL_AUTHORITY') - (a.kind === 'LOCAL_AUTHORITY'));

  const chart = el('div', { class: 'chart', id: 'chart', role: 'img', 'data-series': areas.map((a) => a.id).join(' '),
    'aria-label': `${ind.name}: ${areas.map((a) => a.name).join(', ')}, ${periods.join(', ')}` });
  const exportQuery = `?indicator=${encodeURIComponent(ind.id)}`;
  page.replaceChildren(
    el('p', { class: 'small' }, el('a', { href: '/indicators' }, '← All indicators')),
    el('h1', {}, ind.name),
    ind.description ? el('p', {}, ind.description) : '',
    el('p', { class: 'meta' }, [ind.theme, polarities[ind.polarity], `Unit: ${figure(1, ind.unit).replace(/^1|^£1|^rank 1/, '').trim() || ind.unit.toLowerCase()}`].filter(Boolean).join(' · ')),
    el('p', {}, 'Trend', ind.trend.area ? ` for ${ind.trend.area.name}` : '', ': ', badge(ind.trend.direction), ' ',
      ind.trend.direction !== 'CANNOT_BE_CALCULATED' ? badge(ind.trend.assessment) : '',
      el('div', { class: 'method' }, ind.trend.method)),
    chart,
    el('p', { class: 'downloads' }, 'Download these figures: ',
      el('a', { href: `/export/observations-analysis.csv${exportQuery}`, download: true }, 'CSV'),
      el('a', { href: `/export/observations-analysis.ndjson${exportQuery}`, download: true }, 'NDJSON')),
    el('h2', {}, 'Every figure'),
    el('table', { id: 'figures' },
      el('thead', {}, el('tr', {}, ...['Period', 'Area', 'Value', 'Compared', 'Source'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, obs.map((o) => el('tr', {},
        el('td', { 'data-label': 'Period' }, o.period || el('span', { class: 'small' }, 'no period printed'), o.periodStart || o.periodEnd ? el('div', { class: 'small' }, `${o.periodStart ?? '…'} to ${o.periodEnd ?? '…'}`) : ''),
        el('td', { 'data-label': 'Area' }, o.area.name),
        el('td', { class: 'num', 'data-label': 'Value' }, figure(o.value, ind.unit),
          o.valueText ? el('div', { class: 'small' }, `published as “${o.valueText}”${o.approximate ? ' (approximate)' : ''}`) : '',
          o.lowerCI95 != null ? el('div', { class: 'small' }, `95% CI ${figure(o.lowerCI95, ind.unit)} to ${figure(o.upperCI95, ind.unit)}`) : ''),
        el('td', { 'data-label': 'Compared' }, comparisonsOf({ ...o, unit: ind.unit }, true)),
        el('td', { 'data-label': 'Source' }, sourceLinks(o.sources), o.notes ? el('details', {}, el('summary', { class: 'small' }, 'Notes'), el('p', { class: 'small' }, o.notes)) : ''),
      )))),
    ind.notes ? el('p', { class: 'small' }, ind.notes) : '',
  );

  const data = [periods.map((_, i) => i)];
  for (const a of areas) data.push(periods.map((p) => obs.find((o) => o.area.id === a.id && label(o) === p && !o.approximate)?.value ?? obs.find((o) => o.area.id === a.id && label(o) === p)?.value ?? null));
  const width = () => Math.max(280, Math.min(chart.clientWidth || page.clientWidth, 900));
  const plot = new uPlot({
    width: width(),
    height: 320,
    scales: { x: { time: false, range: [-0.5, periods.length - 0.5] } },
    axes: [
      { values: (_, ticks) => ticks.map((t) => (Number.isInteger(t) ? periods[t] ?? '' : '')), splits: () => periods.map((_, i) => i) },
      { values: (_, ticks) => ticks.map((t) => figure(t, ind.unit)), size: 80 },
    ],
    series: [
      { label: 'Period', value: (_, i) => (i == null ? '' : periods[i]) },
      ...areas.map((a, i) => ({
        label: a.name,
        stroke: palette[i % palette.length],
        width: a.kind === 'LOCAL_AUTHORITY' ? 3 : 2,
        points: { show: true, size: 9, fill: palette[i % palette.length] },
        spanGaps: true,
        value: (_, v) => (v == null ? '—' : figure(v, ind.unit)),
      })),
    ],
  }, data, chart);
  window.addEventListener('resize', () => plot.setSize({ width: width(), height: 320 }));
  chart.dataset.drawn = String(areas.length);
}

async function main() {
  const m = window.location.pathname.match(/^\/indicators\/(.+)$/);
  try {
    if (m) await detail(decodeURIComponent(m[1]));
    else await list();
  } catch (err) {
    status.textContent = `Could not load the figures: ${err.message}`;
    status.className = 'error';
  }
}

main();
