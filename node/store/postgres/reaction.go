package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roomring/roomring/node/store"
)

const (
	// sqlPutReaction is migration 0004's function: false when the world's
	// quota refused the write.
	sqlPutReaction    = `SELECT roomring_put_reaction($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	sqlDeleteReaction = `DELETE FROM roomring_resource_reactions
		WHERE world = $1 AND resource = $2 AND comment = $3 AND user_id = $4
		RETURNING reaction, incognito, updated, room`
	sqlReaction = `SELECT reaction, incognito, updated, room FROM roomring_resource_reactions
		WHERE world = $1 AND resource = $2 AND comment = $3 AND user_id = $4`
	sqlReactionsOf = `SELECT user_id, reaction, incognito, updated, room FROM roomring_resource_reactions
		WHERE world = $1 AND resource = $2 AND comment = $3 ORDER BY user_id`
)

type writeKind uint8

const (
	writePut writeKind = iota
	writeDelete
)

// write is one PutReaction or DeleteReaction waiting for the committer.
type write struct {
	ctx  context.Context // the caller's, bounded by OpTimeout: expired writes are dropped unapplied
	kind writeKind
	r    store.ResourceReaction // delete: only the key
	max  int                    // put: the world's quota (PutReaction's worldMax)
	done chan result            // buffered: the committer never blocks on it
}

type result struct {
	old store.ResourceReaction // delete: the removed reaction
	err error
}

func checkKey(k store.ReactionKey) error {
	for _, f := range [...]struct{ what, s string }{{"world", k.World}, {"resource", k.Resource}, {"comment", k.Comment}, {"user id", k.UserID}} {
		if err := checkText(f.what, f.s); err != nil {
			return err
		}
	}
	return nil
}

// PutReaction implements store.Store through the group committer.
func (s *Store) PutReaction(ctx context.Context, r store.ResourceReaction, worldMax int) error {
	if err := checkKey(r.ReactionKey); err != nil {
		return fmt.Errorf("put reaction: %w", err)
	}
	if err := checkText("reaction", r.Reaction); err != nil {
		return fmt.Errorf("put reaction: %w", err)
	}
	if err := checkText("room", r.Room); err != nil {
		return fmt.Errorf("put reaction: %w", err)
	}
	return s.submit(ctx, writePut, r, worldMax).err
}

// DeleteReaction implements store.Store through the group committer.
func (s *Store) DeleteReaction(ctx context.Context, k store.ReactionKey) (store.ResourceReaction, error) {
	if checkKey(k) != nil {
		return store.ResourceReaction{}, store.ErrNotFound // no such key can have been stored
	}
	res := s.submit(ctx, writeDelete, store.ResourceReaction{ReactionKey: k}, 0)
	return res.old, res.err
}

// submit queues a write for the committer and waits for its result. The
// wait is bounded: a write still queued when its deadline passes is dropped
// unapplied, and a transaction lasts at most OpTimeout.
func (s *Store) submit(ctx context.Context, kind writeKind, r store.ResourceReaction, max int) result {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	w := &write{ctx: ctx, kind: kind, r: r, max: max, done: make(chan result, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return result{err: ErrClosed}
	}
	select {
	case s.queue <- w:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		err := wrap("wait for the commit queue", ctx.Err())
		s.m.observe(kind.String(), err)
		return result{err: err}
	}
	return <-w.done
}

func (k writeKind) String() string {
	if k == writePut {
		return "put_reaction"
	}
	return "delete_reaction"
}

// commitLoop is the group committer: it takes the first queued write, adds
// whatever else is queued (waiting up to BatchMaxDelay when set) up to
// BatchMaxItems, commits the batch and releases its writers. It returns
// when Close has closed the queue and every queued write is committed.
func (s *Store) commitLoop() {
	defer s.done.Done()
	batch := make([]*write, 0, s.cfg.BatchMaxItems)
	results := make([]result, s.cfg.BatchMaxItems)
	delay := s.cfg.BatchMaxDelay
	var timer *time.Timer
	if delay > 0 {
		timer = time.NewTimer(delay)
		timer.Stop()
	}
	for {
		w, open := <-s.queue
		if !open {
			return
		}
		batch = s.admit(batch[:0], w)
		if timer != nil {
			timer.Reset(delay)
		}
	fill:
		for open && len(batch) < s.cfg.BatchMaxItems {
			if timer == nil {
				select {
				case w, open = <-s.queue:
				default:
					break fill
				}
			} else {
				select {
				case w, open = <-s.queue:
				case <-timer.C:
					break fill
				}
			}
			if open {
				batch = s.admit(batch, w)
			}
		}
		if timer != nil {
			timer.Stop()
		}
		if len(batch) > 0 {
			s.commit(batch, results[:len(batch)])
		}
		if !open {
			return
		}
	}
}

// admit adds w to batch unless its writer's deadline passed while it was
// queued; such a write is answered at once and never applied.
func (s *Store) admit(batch []*write, w *write) []*write {
	if err := w.ctx.Err(); err != nil {
		err = wrap("wait for the commit queue", err)
		s.m.observe(w.kind.String(), err)
		w.done <- result{err: err}
		return batch
	}
	return append(batch, w)
}

// commit runs batch in one transaction and answers each writer. A batch
// that failed because the database is unreachable fails every write with
// store.ErrUnavailable. One that the database refused (a statement error
// aborts the whole transaction, so nothing was applied) is rerun one write
// per transaction, so each writer gets its own result.
func (s *Store) commit(batch []*write, results []result) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
	defer cancel()
	err := s.run(ctx, batch, results)
	if err != nil && pgconn.SafeToRetry(err) && ctx.Err() == nil {
		// Nothing reached the server (e.g. a pooled connection found dead
		// after a database restart): run it again on another connection.
		err = s.run(ctx, batch, results)
	}
	switch {
	case err == nil:
	case unavailable(err):
		err = wrap("commit reactions", err)
		for i := range results {
			results[i] = result{err: err}
		}
	default:
		for i := range batch {
			if err := s.run(ctx, batch[i:i+1], results[i:i+1]); err != nil {
				results[i] = result{err: wrap("commit reaction", err)}
			}
		}
	}
	s.m.batchSize.Observe(float64(len(batch)))
	s.m.commitTime.Observe(time.Since(start).Seconds())
	for i, w := range batch {
		s.m.observe(w.kind.String(), results[i].err)
		w.done <- results[i]
		results[i] = result{}
	}
}

// run sends the writes as one pipelined batch — an implicit transaction,
// committed at the batch's end — and fills results. The results are valid
// only when it returns nil: until the batch is closed, the commit may still
// fail.
func (s *Store) run(ctx context.Context, ws []*write, results []result) error {
	b := &pgx.Batch{}
	for _, w := range ws {
		k := w.r.ReactionKey
		if w.kind == writePut {
			b.Queue(sqlPutReaction, k.Resource, k.Comment, k.UserID, w.r.Reaction, w.r.Incognito, w.r.Updated, w.r.Room, w.r.World, w.max)
		} else {
			b.Queue(sqlDeleteReaction, k.World, k.Resource, k.Comment, k.UserID)
		}
	}
	br := s.pool.SendBatch(ctx, b)
	for i, w := range ws {
		if w.kind == writePut {
			var stored bool
			if err := br.QueryRow().Scan(&stored); err != nil {
				_ = br.Close()
				return err
			}
			results[i] = result{}
			if !stored {
				results[i].err = store.ErrQuotaExceeded
			}
			continue
		}
		old := store.ResourceReaction{ReactionKey: w.r.ReactionKey}
		err := br.QueryRow().Scan(&old.Reaction, &old.Incognito, &old.Updated, &old.Room)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			results[i] = result{err: store.ErrNotFound}
		case err != nil:
			_ = br.Close()
			return err
		default:
			old.Updated = old.Updated.UTC()
			results[i] = result{old: old}
		}
	}
	return br.Close()
}

// Reaction implements store.Store.
func (s *Store) Reaction(ctx context.Context, k store.ReactionKey) (store.ResourceReaction, error) {
	if checkKey(k) != nil {
		return store.ResourceReaction{}, store.ErrNotFound
	}
	r := store.ResourceReaction{ReactionKey: k}
	err := s.op(ctx, "reaction", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, sqlReaction, k.World, k.Resource, k.Comment, k.UserID).Scan(&r.Reaction, &r.Incognito, &r.Updated, &r.Room)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	r.Updated = r.Updated.UTC()
	return r, err
}

// ReactionsOf implements store.Store. Rows stream from the database while fn
// runs; fn must not call the store (it would hold one connection while
// asking for another).
func (s *Store) ReactionsOf(ctx context.Context, world, resource, comment string, fn func(store.ResourceReaction) bool) error {
	if checkText("world", world) != nil || checkText("resource", resource) != nil || checkText("comment", comment) != nil {
		return nil // nothing can have been stored under it
	}
	return s.op(ctx, "reactions_of", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, sqlReactionsOf, world, resource, comment)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := store.ResourceReaction{ReactionKey: store.ReactionKey{World: world, Resource: resource, Comment: comment}}
			if err := rows.Scan(&r.UserID, &r.Reaction, &r.Incognito, &r.Updated, &r.Room); err != nil {
				return err
			}
			r.Updated = r.Updated.UTC()
			if !fn(r) {
				return nil
			}
		}
		return rows.Err()
	})
}

// sqlReactionUsage counts one room's rows (migration 0002): the user's
// reactions over the (room, user_id) index, the room's targets in the
// table the trigger keeps.
const sqlReactionUsage = `SELECT
	(SELECT count(*) FROM roomring_resource_reactions WHERE room = $1 AND user_id = $4),
	(SELECT count(*) FROM roomring_resource_reaction_targets WHERE room = $1),
	EXISTS (SELECT 1 FROM roomring_resource_reaction_targets WHERE room = $1 AND resource = $2 AND comment = $3)`

// ReactionUsage implements store.Store.
func (s *Store) ReactionUsage(ctx context.Context, room string, k store.ReactionKey) (store.ReactionUsage, error) {
	if checkKey(k) != nil || checkText("room", room) != nil {
		return store.ReactionUsage{}, nil // nothing can have been stored under it
	}
	var u store.ReactionUsage
	err := s.op(ctx, "reaction_usage", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, sqlReactionUsage, room, k.Resource, k.Comment, k.UserID).Scan(&u.UserReactions, &u.Targets, &u.HasTarget)
	})
	if err != nil {
		return store.ReactionUsage{}, fmt.Errorf("count reactions of room %q: %w", room, err)
	}
	return u, nil
}

// WorldReactions implements store.Store from the count the trigger of
// migrations 0003 and 0004 keeps.
func (s *Store) WorldReactions(ctx context.Context, world string) (int, error) {
	if checkText("world", world) != nil {
		return 0, nil // nothing can have been stored under it
	}
	var n int
	err := s.op(ctx, "world_reactions", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `SELECT reactions FROM roomring_resource_reaction_worlds WHERE world = $1`, world).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count reactions of world %q: %w", world, err)
	}
	return n, nil
}
