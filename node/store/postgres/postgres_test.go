package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/node/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

func config(dsn string) postgres.Config {
	cfg := postgres.DefaultConfig()
	cfg.DSN = dsn
	return cfg
}

func open(t *testing.T, cfg postgres.Config) (*postgres.Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := postgres.Open(ctx, cfg, testkit.Logger(t), reg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, reg
}

// metric returns the value of the sample name (a counter, gauge, or a
// histogram's sample count) whose labels include labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

func query[T any](t *testing.T, dsn, sql string, args ...any) []T {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func exec(t *testing.T, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func reaction(user, value string) store.ResourceReaction {
	return store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: "talk", UserID: user},
		Reaction: value, Updated: storetest.At}
}

// TestMigrationsConcurrentStart opens the store from several "nodes" at once
// on an empty database: all succeed, each migration is applied once, and
// the advisory lock is released.
func TestMigrationsConcurrentStart(t *testing.T) {
	dsn := pgtest.DB(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	stores := make([]*postgres.Store, nodes)
	for i := range nodes {
		wg.Go(func() {
			stores[i], errs[i] = postgres.Open(ctx, config(dsn), testkit.Logger(t), prometheus.NewRegistry())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Every store works on the one schema.
	for i, s := range stores {
		if err := s.PutReaction(ctx, reaction(fmt.Sprint("u", i), "👍"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(storetest.List(t, stores[0], "talk", "")); n != nodes {
		t.Fatalf("%d reactions, want %d", n, nodes)
	}
	versions := query[int32](t, dsn, "SELECT version FROM roomring_schema_migrations ORDER BY version")
	// Each embedded migration once (0002 added the reactions' room, 0003 their world, 0004 the world in their key).
	if fmt.Sprint(versions) != "[1 2 3 4]" {
		t.Fatalf("applied migrations = %v, want [1 2 3 4]", versions)
	}
	if locks := query[int64](t, dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"); locks[0] != 0 {
		t.Fatalf("%d advisory locks still held", locks[0])
	}
	// A later start finds nothing to do.
	s, _ := open(t, config(dsn))
	_ = s.Close()
	if v := query[int32](t, dsn, "SELECT version FROM roomring_schema_migrations"); len(v) != 4 {
		t.Fatalf("migrations after a restart = %v", v)
	}
}

// TestMigrationWaitsForTheLock: a node holding the migration lock keeps
// another from migrating until it lets go; a node that cannot get the lock
// in time fails to open with store.ErrUnavailable.
func TestMigrationWaitsForTheLock(t *testing.T) {
	dsn := pgtest.DB(t)
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(x'726f6f6d72696e67'::bigint)"); err != nil {
		t.Fatal(err)
	}
	cfg := config(dsn)
	cfg.MigrateTimeout = 300 * time.Millisecond
	if _, err := postgres.Open(ctx, cfg, testkit.Logger(t), prometheus.NewRegistry()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open while the lock is held = %v, want ErrUnavailable", err)
	}
	if tables := query[string](t, dsn, "SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'roomring_%'"); len(tables) != 0 {
		t.Fatalf("migrated without the lock: %v", tables)
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock(x'726f6f6d72696e67'::bigint)"); err != nil {
		t.Fatal(err)
	}
	open(t, config(dsn))
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	cfg := config("postgres://roomring:secret@" + addr + "/roomring?sslmode=disable")
	_, err = postgres.Open(ctx, cfg, testkit.Logger(t), prometheus.NewRegistry())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open of an unreachable database = %v, want ErrUnavailable", err)
	}
}

// TestGroupCommit: concurrent writes share transactions, and each writer
// gets its own result.
func TestGroupCommit(t *testing.T) {
	cfg := config(pgtest.DB(t))
	cfg.BatchMaxDelay = 20 * time.Millisecond // gather writers that start within it
	s, reg := open(t, cfg)
	const writers = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			<-start
			errs[i] = s.PutReaction(ctx, reaction(fmt.Sprintf("u%02d", i), fmt.Sprint("r", i)), 0)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got := storetest.List(t, s, "talk", "")
	if len(got) != writers {
		t.Fatalf("%d reactions stored, want %d", len(got), writers)
	}
	for i, r := range got {
		if r.UserID != fmt.Sprintf("u%02d", i) || r.Reaction != fmt.Sprint("r", i) {
			t.Fatalf("reaction %d = %+v", i, r)
		}
	}
	batches := metric(t, reg, "roomring_store_commit_batch_size", nil)
	if batches < 1 || batches >= writers {
		t.Fatalf("%v transactions for %d concurrent writes: no group commit", batches, writers)
	}
	if ok := metric(t, reg, "roomring_store_operations_total", map[string]string{"op": "put_reaction", "result": "ok"}); ok != writers {
		t.Fatalf("put_reaction ok = %v, want %d", ok, writers)
	}
	// A delete in a batch returns the removed reaction, and not found for a
	// key the same batch already deleted.
	results := make([]error, 2)
	olds := make([]store.ResourceReaction, 2)
	for i := range 2 {
		wg.Go(func() {
			olds[i], results[i] = s.DeleteReaction(ctx, store.ReactionKey{Resource: "talk", UserID: "u07"})
		})
	}
	wg.Wait()
	found, notFound := 0, 0
	for i, err := range results {
		switch {
		case err == nil && olds[i].Reaction == "r7":
			found++
		case errors.Is(err, store.ErrNotFound):
			notFound++
		default:
			t.Fatalf("delete %d = %+v, %v", i, olds[i], err)
		}
	}
	if found != 1 || notFound != 1 {
		t.Fatalf("two deletes of one key: %d found, %d not found", found, notFound)
	}
}

// TestBatchWithARefusedWrite: a write the database refuses fails alone;
// the other writes of its batch are committed.
func TestBatchWithARefusedWrite(t *testing.T) {
	dsn := pgtest.DB(t)
	cfg := config(dsn)
	cfg.BatchMaxDelay = 50 * time.Millisecond
	s, reg := open(t, cfg)
	exec(t, dsn, `ALTER TABLE roomring_resource_reactions ADD CONSTRAINT test_refuse CHECK (reaction <> 'refused')`)
	const writers = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			<-start
			v := "fine"
			if i == 3 {
				v = "refused"
			}
			errs[i] = s.PutReaction(ctx, reaction(fmt.Sprint("u", i), v), 0)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 3 && (err == nil || errors.Is(err, store.ErrUnavailable)):
			t.Fatalf("refused write: %v, want a (non-unavailable) error", err)
		case i != 3 && err != nil:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if n := len(storetest.List(t, s, "talk", "")); n != writers-1 {
		t.Fatalf("%d reactions stored, want %d", n, writers-1)
	}
	if batches := metric(t, reg, "roomring_store_commit_batch_size", nil); batches >= writers {
		t.Fatalf("%v transactions: the refused write was not batched with others", batches)
	}
	// Strings text cannot hold are refused before they reach a batch.
	if err := s.PutReaction(ctx, reaction("nul\x00", "x"), 0); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("NUL in a user id: %v", err)
	}
}
