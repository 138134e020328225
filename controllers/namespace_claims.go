package controllers

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// NamespaceClaims is what this operator knows of its claims on the
// namespaces it watches (namespace_claim.go): which it holds, and which
// another operator holds. The NamespaceClaimer writes it; the Room
// controller, the pool watcher's pruning, /readyz and the metrics read it.
// A nil *NamespaceClaims holds every namespace (no claims: the operator
// watches all namespaces). Safe for concurrent use: mu guards states.
type NamespaceClaims struct {
	duration time.Duration
	now      func() time.Time
	gauge    *prometheus.GaugeVec

	mu     sync.Mutex
	states map[string]claimState
}

// claimState is one namespace's claim as last decided.
type claimState struct {
	held bool
	// renewed is when this operator last wrote its claim (held).
	renewed time.Time
	// holder is the other operator's identity (not held).
	holder string
}

// NewNamespaceClaims returns the claims of namespaces, all undecided. A claim
// not renewed for duration no longer counts as held.
func NewNamespaceClaims(namespaces []string, duration time.Duration) *NamespaceClaims {
	c := &NamespaceClaims{duration: duration, now: time.Now, states: map[string]claimState{},
		gauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomring_operator_namespace_claimed",
			Help: "1 when this operator holds its claim on the namespace and serves its Rooms; 0 while another operator holds it (or it is not decided yet).",
		}, []string{"room_namespace"})}
	for _, ns := range namespaces {
		c.gauge.WithLabelValues(ns).Set(0)
	}
	return c
}

// Held reports whether this operator holds its claim on ns and renewed it
// within the claim duration, so that it may reconcile ns's Rooms.
func (c *NamespaceClaims) Held(ns string) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.states[ns]
	return ok && s.held && c.now().Sub(s.renewed) < c.duration
}

// HeldAll returns the namespaces of namespaces this operator holds, and
// whether every one is decided (held, or held by another); the pool
// watcher prunes only then.
func (c *NamespaceClaims) HeldAll(namespaces []string) (held []string, decided bool) {
	if c == nil {
		return namespaces, true
	}
	decided = true
	for _, ns := range namespaces {
		c.mu.Lock()
		s, ok := c.states[ns]
		c.mu.Unlock()
		switch {
		case !ok:
			decided = false
		case c.Held(ns):
			held = append(held, ns)
		case s.held:
			decided = false // our claim went stale: unknown until renewed
		}
	}
	return held, decided
}

// set records a decision on ns and reports whether it changed from the
// last: a new holder, or held after not or after the claim went stale (the
// Room controller skipped the namespace's Rooms meanwhile, so the claimer
// requeues them).
func (c *NamespaceClaims) set(ns string, held bool, holder string) (changed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	old, had := c.states[ns]
	stale := old.held && now.Sub(old.renewed) >= c.duration
	changed = !had || old.held != held || old.holder != holder || held && stale
	s := claimState{held: held, holder: holder}
	if held {
		s.renewed = now
	}
	c.states[ns] = s
	v := 0.0
	if held {
		v = 1
	}
	c.gauge.WithLabelValues(ns).Set(v)
	return changed
}

// forget makes ns undecided again (this operator released its claim).
func (c *NamespaceClaims) forget(ns string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.states, ns)
	c.gauge.WithLabelValues(ns).Set(0)
}

// ReadyCheck returns the /readyz check of the claim on ns, named
// namespace-claim-NS: it fails while another operator holds ns, and says
// which (controller-runtime's /readyz withholds the reason; the check's
// name, the log and the Event on the Lease say it).
func (c *NamespaceClaims) ReadyCheck(ns string) func(*http.Request) error {
	return func(*http.Request) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s, ok := c.states[ns]; ok && !s.held {
			return fmt.Errorf("namespace %s is served by operator %q (Lease %s)", ns, s.holder, NamespaceClaimLease)
		}
		return nil
	}
}

// Describe implements prometheus.Collector.
func (c *NamespaceClaims) Describe(ch chan<- *prometheus.Desc) { c.gauge.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *NamespaceClaims) Collect(ch chan<- prometheus.Metric) { c.gauge.Collect(ch) }
