package cluster

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cluster's collectors (membership and peer links register
// their own), shared by its parts; collectors are safe for concurrent use.
type metrics struct {
	forwarded   *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	delivered   *prometheus.CounterVec
	received    *prometheus.CounterVec
	resyncs     *prometheus.CounterVec
	catalog     *prometheus.CounterVec
	ringChanges prometheus.Counter
	goneProbes  *prometheus.CounterVec
	owned       prometheus.GaugeFunc

	// The counters of reactions, resolved once: they count every
	// reaction forwarded (see wire_react.go).
	reactSent, reactReceived prometheus.Counter
}

// newMetrics returns the collectors; owned counts the rooms this node owns.
func newMetrics(owned func() float64) *metrics {
	m := &metrics{
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_owner_ops_total",
			Help: "Room operations by operation and outcome: local (this node owns the room), ok/sent (forwarded), retry (refused while the ring moves or the owner rebuilds the room; retried), unavailable, error.",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roomring_cluster_forward_duration_seconds",
			Help:    "Round trip of operations forwarded to a room's owner on another node.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_events_forwarded_total",
			Help: "Owner events for edges on other nodes: sent (one message per node), dropped (link full or down).",
		}, []string{"result"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_messages_received_total",
			Help: "One-way messages from other nodes, by operation (deliver, react) or problem (not_owner, invalid).",
		}, []string{"op"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_resyncs_total",
			Help: "Announcements of this node's members of a room to its owner: local, ok, retry (failed, queued again).",
		}, []string{"result"}),
		catalog: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_catalog_updates_total",
			Help: "Catalog replication: applied (room records changed), dropped (queue full), fetch_failed, gossip_failed, invalid, error.",
		}, []string{"result"}),
		ringChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_cluster_ring_changes_total", Help: "Changes of the member set rooms are placed on.",
		}),
		goneProbes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_cluster_gone_probes_total",
			Help: "Probes of the gossip port of a member whose peer port refused a connection (--fast-failover): gone (TCP refused and UDP unreachable too: its rooms move at once), alive (TCP accepted), inconclusive (no answer), unknown (no longer a member).",
		}, []string{"result"}),
		owned: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roomring_cluster_owned_rooms", Help: "Rooms of the catalog this node owns.",
		}, owned),
	}
	m.reactSent = m.forwarded.WithLabelValues(opReact, "sent")
	m.reactReceived = m.received.WithLabelValues(opReact)
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.forwarded, m.latency, m.delivered, m.received, m.resyncs, m.catalog, m.ringChanges, m.goneProbes, m.owned} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register cluster metrics: %w", err)
		}
	}
	return nil
}
