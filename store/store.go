// Package store owns councilgraph's MongoDB storage: the document types (which
// are also the GraphQL models), one collection per type, their indexes, batch
// finds for the loaders, paged lists, and bulk upserts for the importer.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Store is a connection to one councilgraph database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database

	Organisations *mongo.Collection
	People        *mongo.Collection
	Bodies        *mongo.Collection
	Memberships   *mongo.Collection
	Meetings      *mongo.Collection
	Attendance    *mongo.Collection
	AgendaItems   *mongo.Collection
	Reports       *mongo.Collection
	Declarations  *mongo.Collection
	Plans         *mongo.Collection
	Priorities    *mongo.Collection
	Actions       *mongo.Collection
	Indicators    *mongo.Collection
	Areas         *mongo.Collection
	Observations  *mongo.Collection
	Inspections   *mongo.Collection

	// OrganisationAttendance holds attendance counted per organisation.
	OrganisationAttendance *mongo.Collection
	// Clients holds the API clients and their key hashes; it is not part
	// of the data set.
	Clients *mongo.Collection
}

// Options configure Open.
type Options struct {
	// URI is the MongoDB connection string.
	URI string
	// Database is the database name.
	Database string
	// Monitor, when set, sees every command the driver sends.
	Monitor *event.CommandMonitor
	// ConnectTimeout bounds how long Open waits for the server to answer.
	ConnectTimeout time.Duration
}

// Open connects to the database, waits until it answers a ping (at most
// o.ConnectTimeout, default 10 s) and makes sure every index exists.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	opts := options.Client().ApplyURI(o.URI).SetServerSelectionTimeout(o.ConnectTimeout)
	if o.Monitor != nil {
		opts.SetMonitor(o.Monitor)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURI(o.URI), err)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("database at %s did not answer within %s: %w", redactURI(o.URI), o.ConnectTimeout, err)
	}
	s := New(client, o.Database)
	if err := s.EnsureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	return s, nil
}

// New wraps a connected client, using database name.
func New(client *mongo.Client, name string) *Store {
	db := client.Database(name)
	return &Store{
		client:        client,
		db:            db,
		Organisations: db.Collection("organisations"),
		People:        db.Collection("people"),
		Bodies:        db.Collection("bodies"),
		Memberships:   db.Collection("memberships"),
		Meetings:      db.Collection("meetings"),
		Attendance:    db.Collection("attendance"),
		AgendaItems:   db.Collection("agendaItems"),
		Reports:       db.Collection("reports"),
		Declarations:  db.Collection("declarations"),
		Plans:         db.Collection("plans"),
		Priorities:    db.Collection("priorities"),
		Actions:       db.Collection("actions"),
		Indicators:    db.Collection("indicators"),
		Areas:         db.Collection("areas"),
		Observations:  db.Collection("observations"),
		Inspections:   db.Collection("inspections"),
		Clients:       db.Collection("clients"),

		OrganisationAttendance: db.Collection("organisationAttendance"),
	}
}

// Collection returns the collection named name ("people", "meetings", ...),
// or nil when there is none.
func (s *Store) Collection(name string) *mongo.Collection {
	for _, c := range s.Collections() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// Collections lists every collection, in the order an import writes them.
func (s *Store) Collections() []*mongo.Collection {
	return []*mongo.Collection{
		s.Organisations, s.People, s.Bodies, s.Memberships, s.Meetings,
		s.Attendance, s.AgendaItems, s.Reports, s.Declarations, s.Plans,
		s.Priorities, s.Actions, s.Indicators, s.Areas, s.Observations,
		s.Inspections, s.OrganisationAttendance,
	}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.client.Ping(ctx, nil)
}

// Drop deletes the whole database; tests use it to clean up.
func (s *Store) Drop(ctx context.Context) error {
	return s.db.Drop(ctx)
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Disconnect(ctx)
}

// indexes lists, per collection, the fields that relations and lists filter
// or sort on.
var indexes = map[string][]bson.D{
	"organisations": {keys("name", "_id"), keys("kind"), keys("updatedAt"), keys("dataset")},
	"people":        {keys("name", "_id"), keys("organisationId"), keys("updatedAt"), keys("dataset")},
	"bodies":        {keys("name", "_id"), keys("kind"), keys("organisationId"), keys("parentId"), keys("updatedAt"), keys("dataset")},
	"memberships":   {keys("personId"), keys("bodyId"), keys("representingId"), keys("dataset")},
	"meetings":      {keys("date", "_id"), keys("bodyId", "date"), keys("status"), keys("updatedAt"), keys("dataset")},
	"attendance":    {keys("meetingId"), keys("personId"), keys("representingId"), keys("dataset")},
	"agendaItems":   {keys("meetingId"), keys("presenterId"), keys("updatedAt"), keys("dataset")},
	"reports":       {keys("meetingId"), keys("agendaItemId"), keys("authorId"), keys("leadMemberId"), keys("priorityIds"), keys("indicatorIds"), keys("updatedAt"), keys("dataset")},
	"declarations":  {keys("personId"), keys("agendaItemId"), keys("dataset")},
	"plans":         {keys("ownerId"), keys("updatedAt"), keys("dataset")},
	"priorities":    {keys("planId"), keys("indicatorIds"), keys("leadIds"), keys("updatedAt"), keys("dataset")},
	"actions":       {keys("ownerId"), keys("ownerBodyId"), keys("priorityId"), keys("planId"), keys("agendaItemId"), keys("status"), keys("dueDate"), keys("updatedAt"), keys("dataset")},
	"indicators":    {keys("name", "_id"), keys("theme"), keys("updatedAt"), keys("dataset")},
	"areas":         {keys("name", "_id"), keys("dataset")},
	"observations":  {keys("indicatorId", "period"), keys("areaId"), keys("dataset")},
	"clients":       {keys("keyHash")},
	"inspections":   {keys("inspectorateId"), keys("subjectId"), keys("framework"), keys("leadInspectorId"), keys("updatedAt"), keys("dataset")},

	"organisationAttendance": {keys("meetingId"), keys("organisationId"), keys("dataset")},
}

func keys(fields ...string) bson.D {
	d := make(bson.D, len(fields))
	for i, f := range fields {
		d[i] = bson.E{Key: f, Value: 1}
	}
	return d
}

// EnsureIndexes creates every index that is missing; existing ones are left
// as they are, so it is safe at every start. (It lists the indexes first and
// creates only the missing ones: FerretDB fails a createIndexes command that
// names an index it already has.)
func (s *Store) EnsureIndexes(ctx context.Context) error {
	var errs []error
	for _, c := range append(s.Collections(), s.Clients) {
		have, err := indexNames(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var missing []mongo.IndexModel
		for _, k := range indexes[c.Name()] {
			if !have[indexName(k)] {
				missing = append(missing, mongo.IndexModel{Keys: k, Options: options.Index().SetName(indexName(k))})
			}
		}
		if len(missing) == 0 {
			continue
		}
		if _, err := c.Indexes().CreateMany(ctx, missing); err != nil {
			errs = append(errs, fmt.Errorf("create indexes on %s: %w", c.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// indexName is the name MongoDB gives an index by default: field_1_field_1.
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

func indexNames(ctx context.Context, c *mongo.Collection) (map[string]bool, error) {
	specs, err := c.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", c.Name(), err)
	}
	have := make(map[string]bool, len(specs))
	for _, sp := range specs {
		have[sp.Name] = true
	}
	return have, nil
}

// redactURI hides a password in a connection string.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "the configured MongoDB URI"
	}
	return u.Redacted()
}

// Empty reports whether no collection holds any record.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	for _, c := range s.Collections() {
		n, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
		if err != nil {
			return false, dbError("count "+c.Name(), err)
		}
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}
