package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roomring/roomring/api/adminapi"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/roomring/roomring/api/v1alpha1"
)

// PoolWatcher follows the pool's membership. Every PoolPollInterval it asks
// each node of the pool who it is and which members it sees; when that
// changes — a node joined, left, died or restarted — it requeues every Room,
// so owners are learned again and restarted nodes get their rooms back, and
// it closes rooms that no Room claims (a Room deleted while a node was
// down) and worlds that no World names. It polls on every replica, so each one's PoolHealth (metrics and
// /readyz) is current; it requeues and prunes on the elected leader only.
type PoolWatcher struct {
	Pool Pool
	// Cache lists the Rooms to requeue.
	Cache client.Reader
	// APIReader lists Rooms from the API server itself before pruning, so a
	// Room created a moment ago (by a node, for a websocket room.create) is
	// never missed.
	APIReader client.Reader
	Config    Config
	Log       logr.Logger
	// Resync receives the Rooms to requeue (RoomReconciler.Resync).
	Resync chan<- event.GenericEvent
	// Elected is closed once this replica leads (the manager's Elected());
	// nil means it always leads.
	Elected <-chan struct{}
	// Health receives every poll's result; nil records nothing.
	Health *PoolHealth
	// Claims are the namespaces this operator serves (nil: all of
	// Config.Namespaces); it prunes only when it holds one and every claim
	// is decided, and only the Rooms of the held ones keep rooms open.
	Claims *NamespaceClaims
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the watcher
// polls on every replica and acts on the leader only (Elected).
func (w *PoolWatcher) NeedLeaderElection() bool { return false }

// leads reports whether this replica is the elected leader.
func (w *PoolWatcher) leads() bool {
	if w.Elected == nil {
		return true
	}
	select {
	case <-w.Elected:
		return true
	default:
		return false
	}
}

// Start implements manager.Runnable: it watches until ctx ends.
func (w *PoolWatcher) Start(ctx context.Context) error {
	t := time.NewTicker(w.Config.PoolPollInterval)
	defer t.Stop()
	var last string
	var lastPrune time.Time
	for first := true; ; first = false {
		fp := w.fingerprint(ctx)
		if !w.leads() {
			last = fp
		} else {
			changed := !first && fp != last
			if changed {
				w.Log.Info("pool changed; requeueing every Room", "pool", fp)
				w.requeueAll(ctx)
			}
			last = fp
			if w.Config.PruneInterval > 0 && (changed || time.Since(lastPrune) >= w.Config.PruneInterval) {
				if err := w.prune(ctx); err != nil {
					w.Log.Error(err, "prune rooms")
				} else {
					lastPrune = time.Now()
				}
				if err := w.pruneWorlds(ctx); err != nil {
					w.Log.Error(err, "prune worlds")
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// fingerprint describes the pool as its nodes see it: every node's name and
// incarnation, and the members each one sees. Unreachable nodes are part of
// it, so their death is a change too. It records the poll in w.Health.
func (w *PoolWatcher) fingerprint(ctx context.Context) string {
	addrs, err := w.Pool.Endpoints(ctx)
	if err != nil {
		w.recordHealth(false, 0)
		return "unresolved"
	}
	parts := make([]string, 0, len(addrs))
	up, members := false, 0
	defer func() { w.recordHealth(up, members) }()
	for _, a := range addrs {
		ps, err := w.Pool.PoolAt(ctx, a)
		if err != nil {
			parts = append(parts, a+"=down")
			continue
		}
		up, members = true, max(members, len(ps.Members))
		names := make([]string, len(ps.Members))
		for i, m := range ps.Members {
			names[i] = m.Name
		}
		slices.Sort(names)
		parts = append(parts, fmt.Sprintf("%s=%s/%s[%s]", a, ps.Node.Name, ps.Incarnation, strings.Join(names, ",")))
	}
	return strings.Join(parts, " ")
}

func (w *PoolWatcher) recordHealth(up bool, members int) {
	if w.Health != nil {
		w.Health.record(up, members, time.Now())
	}
}

func (w *PoolWatcher) list(ctx context.Context, r client.Reader) ([]v1alpha1.Room, error) {
	return listRooms(ctx, r, w.Config.Namespaces)
}

func (w *PoolWatcher) requeueAll(ctx context.Context) {
	rooms, err := w.list(ctx, w.Cache)
	if err != nil {
		w.Log.Error(err, "requeue Rooms")
		return
	}
	for i := range rooms {
		select {
		case w.Resync <- event.GenericEvent{Object: &rooms[i]}:
		case <-ctx.Done():
			return
		}
	}
}

// prune closes the rooms the pool serves that no Room claims. The pool is
// listed before the Rooms, so a room whose Room was created meanwhile is
// found claimed.
func (w *PoolWatcher) prune(ctx context.Context) error {
	ids, err := w.Pool.Rooms(ctx)
	if err != nil {
		return fmt.Errorf("list the pool's rooms: %w", err)
	}
	namespaces, decided := w.Claims.HeldAll(w.Config.Namespaces)
	if !decided || w.Claims != nil && len(namespaces) == 0 {
		return nil // the Rooms this pool serves are not known yet, or none are
	}
	rooms, err := listRooms(ctx, w.APIReader, namespaces)
	if err != nil {
		return err
	}
	claimed := make(map[string]bool, len(rooms))
	for i := range rooms {
		claimed[rooms[i].RoomID()] = true
	}
	for _, id := range ids {
		if claimed[id] {
			continue
		}
		if err := w.Pool.DeleteRoom(ctx, id); err != nil && !adminapi.IsNotFound(err) {
			return fmt.Errorf("close unclaimed room %q: %w", id, err)
		}
		w.Log.Info("closed a room no Room claims", "room", id)
	}
	return nil
}

// pruneWorlds closes the worlds the pool serves that no World names (a
// World deleted while no operator ran), except the pool's built-in world
// (a built-in world under another name answers 404 and stays).
// Closing a world disconnects its clients and closes its rooms.
func (w *PoolWatcher) pruneWorlds(ctx context.Context) error {
	ids, err := w.Pool.Worlds(ctx)
	if adminapi.IsNotFound(err) {
		return nil // a node without the world API serves its built-in world only
	}
	if err != nil {
		return fmt.Errorf("list the pool's worlds: %w", err)
	}
	worlds, err := listWorlds(ctx, w.APIReader, w.Config.Namespaces)
	if err != nil {
		return err
	}
	named := make(map[string]bool, len(worlds))
	for i := range worlds {
		named[worlds[i].Name] = true
	}
	for _, id := range ids {
		if named[id] || id == v1alpha1.DefaultWorld {
			continue
		}
		err := w.Pool.DeleteWorld(ctx, id)
		switch {
		case adminapi.IsNotFound(err):
			// a node's built-in world under another name (--world): the
			// node has no record of it to delete, and never closes it
		case err != nil:
			return fmt.Errorf("close unclaimed world %q: %w", id, err)
		default:
			w.Log.Info("closed a world no World names", "world", id)
		}
	}
	return nil
}
