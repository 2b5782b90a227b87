// The Node peer of councilgraph's benchmarks: Apollo Server 5 and
// DataLoader 2 serving operations (a)-(c) of bench/ops.go from the same
// MongoDB collections councilgraph reads, written as a Node developer
// would write it, so that bench/nodepeer/run.sh can compare throughput.
//
// - Only the fields (a)-(c) select are in the schema, named and typed as in
//   councilgraph's schema, so both servers answer the same queries with the
//   same JSON (run.sh checks that before timing).
// - One DataLoader per relation per request (made in the context function),
//   batching by event-loop tick (DataLoader's default schedule), each batch
//   one find with `$in` over its keys: what the DataLoader documentation
//   and most Node code do. No query shape per server: councilgraph picks
//   equality finds over PostgreSQL (store/shape.go); the peer does not.
// - Whole documents, sorted as councilgraph's store sorts them (meetings by
//   date then ID, the rest by ID, agenda items then as printed).
// - Every find keeps to `visibility: "PUBLIC"`, what councilgraph shows an
//   anonymous caller (the benchmark requests carry no credentials), so both
//   do the same work.
// - A body's meetings are all of its meetings, filtered and cut in memory,
//   and comparators come from the indicator's observations already loaded
//   (the period loader is primed), as councilgraph does.
//
// Environment: MONGODB_URI (required), MONGODB_DATABASE (default
// councilgraph), ADDR (default 127.0.0.1:18082; loopback only), PEER_SHAPE:
// "in" (the default, above) or "equality", one equality find per key, 8 at
// a time: councilgraph's shape over PostgreSQL, to tell how much of the
// difference is the query shape and how much the rest.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import DataLoader from 'dataloader';
import { MongoClient } from 'mongodb';

const PUBLIC = 'PUBLIC';

const typeDefs = `#graphql
  scalar Date

  type Query {
    body(id: ID!): Body
    person(id: ID!): Person
    indicator(id: ID!): Indicator
  }

  type Organisation { id: ID! name: String! }

  type Person {
    id: ID!
    name: String!
    organisation: Organisation
    memberships: [Membership!]!
  }

  type Membership { role: String! body: Body! }

  type Body {
    id: ID!
    name: String!
    meetings(from: Date, to: Date, first: Int): MeetingConnection!
  }

  type MeetingConnection { edges: [MeetingEdge!]! }
  type MeetingEdge { node: Meeting! }

  type Meeting {
    id: ID!
    date: Date!
    title: String!
    agendaItems: [AgendaItem!]!
    attendance: [Attendance!]!
  }

  type AgendaItem { id: ID! number: String title: String! reports: [Report!]! }
  type Report { id: ID! title: String! author: Person }
  type Attendance { status: String! person: Person! }

  type Indicator { id: ID! name: String! unit: String! observations: [Observation!]! }
  type Observation {
    period: String!
    value: Float!
    area: Area!
    comparators: [Observation!]!
  }
  type Area { id: ID! name: String! }
`;

const shape = process.env.PEER_SHAPE ?? 'in';
if (!['in', 'equality'].includes(shape)) {
  console.error(`nodepeer: PEER_SHAPE ${shape}: want "in" or "equality"`);
  process.exit(2);
}

// find finds the public documents of coll whose field holds one of keys,
// sorted by sort (when given): one find with $in, or with PEER_SHAPE=equality one find
// per key, 8 at a time, concatenated in key order.
async function find(db, coll, field, keys, sort) {
  const c = db.collection(coll);
  const sorted = (cur) => (sort ? cur.sort(sort) : cur);
  if (shape === 'in') return sorted(c.find({ [field]: { $in: keys }, visibility: PUBLIC })).toArray();
  const per = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      per[i] = await sorted(c.find({ [field]: keys[i], visibility: PUBLIC })).toArray();
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, keys.length) }, worker));
  return per.flat();
}

const byID = { _id: 1 };
const byDate = { date: 1, _id: 1 };

// natural compares as councilgraph's store.Natural does: runs of digits as
// numbers, so that "2" sorts before "10".
function natural(a, b) {
  const digits = (s) => s.match(/^[0-9]*/)[0].length;
  while (a !== '' && b !== '') {
    const da = digits(a), db = digits(b);
    if (da > 0 && db > 0) {
      const na = a.slice(0, da).replace(/^0+/, ''), nb = b.slice(0, db).replace(/^0+/, '');
      if (na.length !== nb.length) return na.length - nb.length;
      if (na !== nb) return na < nb ? -1 : 1;
      a = a.slice(da); b = b.slice(db);
      continue;
    }
    if (a[0] !== b[0]) return a.charCodeAt(0) - b.charCodeAt(0);
    a = a.slice(1); b = b.slice(1);
  }
  return a.length - b.length;
}

const agendaKey = (it) => it.number ?? it.minuteRef ?? it._id;

// loaders makes the request's loaders over db.
function loaders(db) {
  // one loads documents of coll by _id.
  const one = (coll) => new DataLoader(async (ids) => {
    const docs = await find(db, coll, '_id', ids, null);
    const found = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => found.get(id) ?? null);
  });
  // findMany finds the documents of coll whose field holds each key.
  const findMany = (coll, field, sort) => async (keys) => {
    const docs = await find(db, coll, field, keys, sort);
    const groups = new Map(keys.map((k) => [k, []]));
    for (const d of docs) groups.get(d[field])?.push(d);
    return keys.map((k) => groups.get(k));
  };
  const many = (coll, field, sort) => new DataLoader(findMany(coll, field, sort));
  // An indicator's observations hold every area's figure for each of its
  // periods: loading them primes the period loader, so comparators cost no
  // further find (as in councilgraph's loaders).
  const periodKey = ({ indicatorId, period }) => `${indicatorId}\u0000${period}`;
  const observationsByPeriod = new DataLoader(async () => {
    throw new Error('observations by period are only primed, by observationsByIndicator');
  }, { cacheKeyFn: periodKey });
  const byIndicator = findMany('observations', 'indicatorId', byID);
  const observationsByIndicator = new DataLoader(async (ids) => {
    const found = await byIndicator(ids);
    for (const all of found) {
      const periods = new Map();
      for (const o of all) {
        const k = { indicatorId: o.indicatorId, period: o.period };
        if (!periods.has(periodKey(k))) periods.set(periodKey(k), [k, []]);
        periods.get(periodKey(k))[1].push(o);
      }
      for (const [k, group] of periods.values()) observationsByPeriod.prime(k, group);
    }
    return found;
  });
  return {
    body: one('bodies'),
    person: one('people'),
    organisation: one('organisations'),
    area: one('areas'),
    indicator: one('indicators'),
    meetingsByBody: many('meetings', 'bodyId', byDate),
    agendaItemsByMeeting: many('agendaItems', 'meetingId', byID),
    reportsByAgendaItem: many('reports', 'agendaItemId', byID),
    attendanceByMeeting: many('attendance', 'meetingId', byID),
    membershipsByPerson: many('memberships', 'personId', byID),
    observationsByPeriod,
    observationsByIndicator,
  };
}

const id = (d) => d._id;

const resolvers = {
  Query: {
    body: (_, { id }, { l }) => l.body.load(id),
    person: (_, { id }, { l }) => l.person.load(id),
    indicator: (_, { id }, { l }) => l.indicator.load(id),
  },
  Organisation: { id },
  Area: { id },
  Person: {
    id,
    organisation: (p, _, { l }) => (p.organisationId ? l.organisation.load(p.organisationId) : null),
    memberships: (p, _, { l }) => l.membershipsByPerson.load(p._id),
  },
  Membership: { body: (m, _, { l }) => l.body.load(m.bodyId) },
  Body: {
    id,
    meetings: async (b, { from, to, first }, { l }) => {
      const all = await l.meetingsByBody.load(b._id);
      const kept = all.filter((m) => (from == null || m.date >= from) && (to == null || m.date <= to));
      return { edges: kept.slice(0, first ?? kept.length).map((node) => ({ node })) };
    },
  },
  Meeting: {
    id,
    agendaItems: async (m, _, { l }) => {
      const items = await l.agendaItemsByMeeting.load(m._id);
      return [...items].sort((a, b) => natural(agendaKey(a), agendaKey(b)));
    },
    attendance: (m, _, { l }) => l.attendanceByMeeting.load(m._id),
  },
  AgendaItem: { id, reports: (it, _, { l }) => l.reportsByAgendaItem.load(it._id) },
  Report: { id, author: (r, _, { l }) => (r.authorId ? l.person.load(r.authorId) : null) },
  Attendance: { person: (a, _, { l }) => l.person.load(a.personId) },
  Indicator: { id, observations: (i, _, { l }) => l.observationsByIndicator.load(i._id) },
  Observation: {
    area: (o, _, { l }) => l.area.load(o.areaId),
    comparators: async (o, _, { l }) => {
      const all = await l.observationsByPeriod.load({ indicatorId: o.indicatorId, period: o.period });
      return all.filter((p) => p._id !== o._id);
    },
  },
};

const uri = process.env.MONGODB_URI;
if (!uri) {
  console.error('nodepeer: set MONGODB_URI to the database councilgraph serves');
  process.exit(2);
}
const [host, port] = (process.env.ADDR ?? '127.0.0.1:18082').split(':');
if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
  console.error(`nodepeer: ADDR ${host}:${port} is not a loopback address`);
  process.exit(2);
}
const client = new MongoClient(uri);
await client.connect();
const db = client.db(process.env.MONGODB_DATABASE ?? 'councilgraph');

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { host, port: Number(port) },
  context: async () => ({ l: loaders(db) }),
});
console.log(`nodepeer: listening at ${url} (database ${db.databaseName}, shape ${shape})`);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.stop();
    await client.close();
    process.exit(0);
  });
}
