package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
)

// PhaseUnreconciled is the phase label of the Rooms whose status the
// operator has not written yet (status.phase is blank).
const PhaseUnreconciled = "Unreconciled"

// roomPhases are the phase labels reported even when no Room (or World)
// has them, so alerts can compare against 0. Worlds have the same phases.
var roomPhases = []string{PhaseUnreconciled, v1alpha1.PhasePending, v1alpha1.PhaseReady,
	v1alpha1.PhaseInvalid, v1alpha1.PhaseConflict, v1alpha1.PhaseDeleting}

// collectTimeout bounds a scrape's read of the informer cache (it blocks
// until the cache has synced).
const collectTimeout = 2 * time.Second

// phaseCollector reports a gauge of objects by status.phase — for
// instance roomring_operator_rooms{phase} — in the namespaces the operator
// serves (not those another operator's namespace claim holds).
// It counts from the informer cache at each scrape (no API request), so it
// costs one in-memory list per scrape. Collect is safe for concurrent use:
// mu serializes scrapes' updates of gauge.
type phaseCollector struct {
	// phases lists the phases of the objects counted.
	phases func(ctx context.Context) ([]string, error)
	mu     sync.Mutex
	gauge  *prometheus.GaugeVec
}

// servedNamespaces says which namespaces' objects an operator counts:
// every namespace (nil, true) when it watches every one, else those of
// its namespaces whose claim it holds; ok is false when it serves none
// (another operator holds them all, or nothing is decided yet).
type servedNamespaces func() (namespaces []string, ok bool)

// claimedNamespaces is servedNamespaces of an operator watching namespaces
// (none: every one) with claims (nil when it watches every namespace).
func claimedNamespaces(namespaces []string, claims *NamespaceClaims) servedNamespaces {
	return func() ([]string, bool) {
		if len(namespaces) == 0 {
			return nil, true
		}
		held, _ := claims.HeldAll(namespaces) // a nil claims holds them all
		return held, len(held) > 0
	}
}

// newRoomsCollector reports roomring_operator_rooms{phase}.
func newRoomsCollector(c client.Reader, namespaces servedNamespaces) *phaseCollector {
	return &phaseCollector{gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "roomring_operator_rooms",
		Help: "Rooms in the operator's namespaces by status.phase (Unreconciled: no status written yet).",
	}, []string{"phase"}), phases: func(ctx context.Context) ([]string, error) {
		ns, ok := namespaces()
		if !ok {
			return nil, nil
		}
		rooms, err := listRooms(ctx, c, ns)
		out := make([]string, len(rooms))
		for i := range rooms {
			out[i] = rooms[i].Status.Phase
		}
		return out, err
	}}
}

// newWorldsCollector reports roomring_operator_worlds{phase}.
func newWorldsCollector(c client.Reader, namespaces servedNamespaces) *phaseCollector {
	return &phaseCollector{gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "roomring_operator_worlds",
		Help: "Worlds in the operator's namespaces by status.phase (Unreconciled: no status written yet).",
	}, []string{"phase"}), phases: func(ctx context.Context) ([]string, error) {
		ns, ok := namespaces()
		if !ok {
			return nil, nil
		}
		worlds, err := listWorlds(ctx, c, ns)
		out := make([]string, len(worlds))
		for i := range worlds {
			out[i] = worlds[i].Status.Phase
		}
		return out, err
	}}
}

// Describe implements prometheus.Collector.
func (c *phaseCollector) Describe(ch chan<- *prometheus.Desc) { c.gauge.Describe(ch) }

// Collect implements prometheus.Collector. Before the cache has synced it
// reports nothing.
func (c *phaseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	phases, err := c.phases(ctx)
	if err != nil {
		return
	}
	counts := make(map[string]int, len(roomPhases))
	for _, p := range roomPhases {
		counts[p] = 0
	}
	for _, p := range phases {
		if p == "" {
			p = PhaseUnreconciled
		}
		counts[p]++
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gauge.Reset() // phases no object has any more, beyond roomPhases
	for p, n := range counts {
		c.gauge.WithLabelValues(p).Set(float64(n))
	}
	c.gauge.Collect(ch)
}

// PoolHealth is what the pool watcher learned at its last poll: whether a
// node of the pool answered, how many members the pool has, and when a node
// last answered. It reports roomring_operator_pool_up and
// roomring_operator_pool_members, and backs the operator's /readyz. The
// pool watcher records; scrapes and probes read; all methods are safe for
// concurrent use.
type PoolHealth struct {
	mu      sync.Mutex
	polled  bool
	reached time.Time // of the last poll a node answered

	upGauge, membersGauge prometheus.Gauge
}

// NewPoolHealth returns a PoolHealth that has seen no poll yet.
func NewPoolHealth() *PoolHealth {
	return &PoolHealth{
		upGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomring_operator_pool_up",
			Help: "1 if a node of the pool answered the operator's last poll, 0 if none did.",
		}),
		membersGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomring_operator_pool_members",
			Help: "Members of the pool at the operator's last poll: the largest membership a reachable node reports (0 when none answered).",
		}),
	}
}

// record stores a poll's result: up when a node answered, members the
// largest membership a reachable node reported.
func (h *PoolHealth) record(up bool, members int, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polled = true
	h.upGauge.Set(0)
	if up {
		h.reached = at
		h.upGauge.Set(1)
	}
	h.membersGauge.Set(float64(members))
}

// ReachedWithin returns nil when a node of the pool answered a poll in the
// window before now, and an error saying otherwise.
func (h *PoolHealth) ReachedWithin(window time.Duration, now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.polled:
		return errors.New("the pool has not been polled yet")
	case h.reached.IsZero():
		return errors.New("no node of the pool has answered yet")
	case now.Sub(h.reached) > window:
		return fmt.Errorf("no node of the pool has answered for %s", now.Sub(h.reached).Round(time.Second))
	}
	return nil
}

// Describe implements prometheus.Collector.
func (h *PoolHealth) Describe(ch chan<- *prometheus.Desc) {
	h.upGauge.Describe(ch)
	h.membersGauge.Describe(ch)
}

// Collect implements prometheus.Collector. Before the first poll it
// reports nothing.
func (h *PoolHealth) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.polled {
		return
	}
	h.upGauge.Collect(ch)
	h.membersGauge.Collect(ch)
}

// readyCheck is the operator's /readyz: ready once the informer cache has
// synced and a node of the pool answered within window.
func readyCheck(c cache.Cache, h *PoolHealth, window time.Duration) func(*http.Request) error {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("the Room cache has not synced")
		}
		return h.ReachedWithin(window, time.Now())
	}
}

// listRooms lists the Rooms of namespaces (every namespace when empty)
// from r.
func listRooms(ctx context.Context, r client.Reader, namespaces []string) ([]v1alpha1.Room, error) {
	if len(namespaces) == 0 {
		var l v1alpha1.RoomList
		if err := r.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("list Rooms: %w", err)
		}
		return l.Items, nil
	}
	var out []v1alpha1.Room
	for _, ns := range namespaces {
		var l v1alpha1.RoomList
		if err := r.List(ctx, &l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list Rooms in %s: %w", ns, err)
		}
		out = append(out, l.Items...)
	}
	return out, nil
}

// listWorlds lists the Worlds of namespaces (every namespace when empty)
// from r.
func listWorlds(ctx context.Context, r client.Reader, namespaces []string) ([]v1alpha1.World, error) {
	if len(namespaces) == 0 {
		var l v1alpha1.WorldList
		if err := r.List(ctx, &l); err != nil {
			return nil, fmt.Errorf("list Worlds: %w", err)
		}
		return l.Items, nil
	}
	var out []v1alpha1.World
	for _, ns := range namespaces {
		var l v1alpha1.WorldList
		if err := r.List(ctx, &l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list Worlds in %s: %w", ns, err)
		}
		out = append(out, l.Items...)
	}
	return out, nil
}
