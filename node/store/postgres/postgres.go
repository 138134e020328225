// Package postgres is the Store of a cluster: PostgreSQL through a pgx
// connection pool, shared by every node, so resource reactions and
// anonymous invites outlive any node.
//
// Resource reaction writes go through a group committer: one goroutine
// takes the writes queued by concurrent callers (up to BatchMaxItems,
// waiting up to BatchMaxDelay for more), sends them in one pipelined
// implicit transaction — one round trip and one WAL flush for the whole
// batch — and then releases each caller with its own result. A caller's
// write is durable when PutReaction or DeleteReaction returns nil; callers
// announce a write only after that. Other writes (rooms, invites) are
// single transactions on the pool.
//
// When the database cannot be reached or does not answer within
// OpTimeout, operations fail with an error wrapping store.ErrUnavailable
// and the node keeps running; the pool reconnects by itself once the
// database is back. The schema is migrated on Open (see migrate.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/store"
)

// Store is a store.Store backed by PostgreSQL. It is safe for concurrent
// use.
type Store struct {
	cfg  Config
	log  *slog.Logger
	pool *pgxpool.Pool
	m    *metrics

	// mu guards closed and sending on queue (Close closes queue under the
	// write lock, so no send can follow it).
	mu     sync.RWMutex
	closed bool
	queue  chan *write

	stopHealth chan struct{}
	done       sync.WaitGroup // committer and health prober
}

var _ store.Store = (*Store)(nil)

// Open connects to the database, migrates its schema and starts the group
// committer. It fails (wrapping store.ErrUnavailable when the database is
// unreachable) unless the schema could be brought up to date within
// cfg.MigrateTimeout. Metrics are registered on reg.
func Open(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL DSN: %w", err)
	}
	pc.MaxConns = int32(cfg.MaxConns)
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create PostgreSQL pool: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		pool.Close()
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, cfg.MigrateTimeout)
	applied, err := migrate(mctx, pool, ms)
	cancel()
	if err != nil {
		pool.Close()
		return nil, wrap(fmt.Sprintf("migrate schema of %s", pc.ConnConfig.Database), err)
	}
	log.Info("postgres store open", "host", pc.ConnConfig.Host, "port", pc.ConnConfig.Port,
		"database", pc.ConnConfig.Database, "migrations_applied", applied, "schema_version", ms[len(ms)-1].version)

	s := &Store{cfg: cfg, log: log, pool: pool, queue: make(chan *write, cfg.QueueLen), stopHealth: make(chan struct{})}
	s.m = newMetrics(s)
	if err := s.m.register(reg); err != nil {
		pool.Close()
		return nil, err
	}
	s.m.up.Set(1)
	s.done.Add(2)
	go s.commitLoop()
	go s.healthLoop()
	return s, nil
}

// Close stops accepting writes, commits those already queued, and closes
// the pool. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	close(s.stopHealth)
	s.mu.Unlock()
	s.done.Wait()
	s.pool.Close()
	return nil
}

// op runs fn with the operation deadline and records its outcome.
func (s *Store) op(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	err := fn(ctx)
	s.m.observe(name, err)
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound):
		return err
	default:
		return wrap(name, err)
	}
}

// Rooms implements store.Store.
func (s *Store) Rooms(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.op(ctx, "rooms", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, "SELECT id, record FROM roomring_rooms")
		if err != nil {
			return err
		}
		var id string
		var rec []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &rec}, func() error {
			out[id] = rec
			rec = nil // the next row scans into a fresh slice
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutRooms implements store.Store.
func (s *Store) PutRooms(ctx context.Context, rooms map[string][]byte) error {
	for id := range rooms {
		if err := checkText("room id", id); err != nil {
			return err
		}
	}
	return s.op(ctx, "put_rooms", func(ctx context.Context) error {
		b := &pgx.Batch{}
		for id, rec := range rooms {
			b.Queue(`INSERT INTO roomring_rooms (id, record) VALUES ($1, $2)
				ON CONFLICT (id) DO UPDATE SET record = excluded.record`, id, rec)
		}
		// One pipelined implicit transaction: all rooms or none.
		return s.pool.SendBatch(ctx, b).Close()
	})
}

// DeleteRoom implements store.Store: the room record and every invite to
// the room go in one transaction.
func (s *Store) DeleteRoom(ctx context.Context, id string) error {
	return s.op(ctx, "delete_room", func(ctx context.Context) error {
		b := &pgx.Batch{}
		b.Queue("DELETE FROM roomring_rooms WHERE id = $1", id)
		b.Queue("DELETE FROM roomring_invites WHERE room = $1", id)
		return s.pool.SendBatch(ctx, b).Close()
	})
}

// PutInvite implements store.Store. Putting an existing code again makes it
// its room's newest invite.
func (s *Store) PutInvite(ctx context.Context, inv store.Invite) error {
	if err := checkText("invite code", inv.Code); err != nil {
		return err
	}
	if err := checkText("invite room", inv.Room); err != nil {
		return err
	}
	return s.op(ctx, "put_invite", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO roomring_invites (code, room, expires) VALUES ($1, $2, $3)
			ON CONFLICT (code) DO UPDATE SET room = excluded.room, expires = excluded.expires,
				seq = nextval('roomring_invites_seq')`, inv.Code, inv.Room, inv.Expires)
		return err
	})
}

// Invite implements store.Store.
func (s *Store) Invite(ctx context.Context, code string) (store.Invite, error) {
	if checkText("invite code", code) != nil {
		return store.Invite{}, store.ErrNotFound // no such code can have been stored
	}
	inv := store.Invite{Code: code}
	err := s.op(ctx, "invite", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, "SELECT room, expires FROM roomring_invites WHERE code = $1", code).
			Scan(&inv.Room, &inv.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	inv.Expires = inv.Expires.UTC()
	return inv, err
}

// RoomInvite implements store.Store.
func (s *Store) RoomInvite(ctx context.Context, room string) (store.Invite, error) {
	if checkText("invite room", room) != nil {
		return store.Invite{}, store.ErrNotFound
	}
	inv := store.Invite{Room: room}
	err := s.op(ctx, "room_invite", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `SELECT code, expires FROM roomring_invites WHERE room = $1
			ORDER BY seq DESC LIMIT 1`, room).Scan(&inv.Code, &inv.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	inv.Expires = inv.Expires.UTC()
	return inv, err
}

// checkText rejects strings PostgreSQL's text type cannot hold, before they
// reach (and abort) a transaction. The engine's own ids and reactions are
// printable UTF-8 and always pass.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q: %w: invalid UTF-8", what, s, errInvalidText)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%s %q: %w: contains a NUL byte", what, s, errInvalidText)
		}
	}
	return nil
}

// healthLoop pings the database every HealthInterval so roomring_store_up
// follows the database while no operation runs.
func (s *Store) healthLoop() {
	defer s.done.Done()
	t := time.NewTicker(s.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopHealth:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
			err := s.pool.Ping(ctx)
			cancel()
			s.m.observe("ping", err)
		}
	}
}
