package peer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Mesh's collectors.
type metrics struct {
	m        *Mesh
	queued   *prometheus.CounterVec
	received *prometheus.CounterVec
	written  prometheus.Counter
	writes   prometheus.Counter
	bytes    prometheus.Counter
	dropped  *prometheus.CounterVec
	connects *prometheus.CounterVec
	rejected prometheus.Counter
	timeouts prometheus.Counter
	// refused, handshakeFailed and suppressed count strangers'
	// connections (MaxHandshakes, broken handshakes) and the log lines
	// about them held back.
	refused         prometheus.Counter
	handshakeFailed prometheus.Counter
	suppressed      prometheus.Counter

	depthDesc *prometheus.Desc
	upDesc    *prometheus.Desc
}

func newMetrics(m *Mesh) *metrics {
	return &metrics{m: m,
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_peer_frames_queued_total", Help: "Frames queued to peer links, by type (request, reply, message).",
		}, []string{"type"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_peer_frames_received_total", Help: "Frames received from peers, by type.",
		}, []string{"type"}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_frames_written_total", Help: "Frames written to peer connections.",
		}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_writes_total", Help: "Batched writes to peer connections (frames written / writes = batching).",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_bytes_written_total", Help: "Bytes written to peer connections.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_peer_frames_dropped_total", Help: "Frames not delivered, by reason (queue_full, link_down, write_failed, lane_full, unknown_peer, late_reply).",
		}, []string{"reason"}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_peer_connects_total", Help: "Outbound peer connection attempts, by result (ok, dial_error, auth_error, handshake_error).",
		}, []string{"result"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_auth_rejected_total", Help: "Inbound peer connections rejected because the dialer did not prove the cluster key.",
		}),
		timeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_request_timeouts_total", Help: "Requests to peers abandoned at their deadline.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_inbound_refused_total", Help: "Inbound peer connections closed at once because peer-max-handshakes were already authenticating.",
		}),
		handshakeFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_handshake_failures_total", Help: "Inbound peer connections that ended before authenticating (timeouts, garbage, closed), wrong keys not included.",
		}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_peer_log_suppressed_total", Help: "Log lines about rejected or refused peer connections held back by the rate limit.",
		}),
		depthDesc: prometheus.NewDesc("roomring_peer_queue_depth", "Frames waiting in a peer link's send queue.", []string{"peer"}, nil),
		upDesc:    prometheus.NewDesc("roomring_peer_link_up", "1 when the link to a peer is connected.", []string{"peer"}, nil),
	}
}

func (mt *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{mt.queued, mt.received, mt.written, mt.writes, mt.bytes,
		mt.dropped, mt.connects, mt.rejected, mt.timeouts, mt.refused, mt.handshakeFailed, mt.suppressed, linkCollector{mt}} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register peer metrics: %w", err)
		}
	}
	return nil
}

// linkCollector reports per-link gauges at scrape time.
type linkCollector struct{ mt *metrics }

func (c linkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.mt.depthDesc
	ch <- c.mt.upDesc
}

func (c linkCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.mt.m
	m.mu.Lock()
	links := make([]*link, 0, len(m.links))
	for _, l := range m.links {
		links = append(links, l)
	}
	m.mu.Unlock()
	for _, l := range links {
		ch <- prometheus.MustNewConstMetric(c.mt.depthDesc, prometheus.GaugeValue, float64(len(l.queue)), l.peer)
		up := 0.0
		if l.state.Load() == stateUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.mt.upDesc, prometheus.GaugeValue, up, l.peer)
	}
}
