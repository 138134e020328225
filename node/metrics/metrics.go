// Package metrics defines the node's Prometheus metrics. Collectors are
// registered on a registry passed in, never on the global one.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/op"
)

// Metrics are the node's collectors.
type Metrics struct {
	Connections   *prometheus.GaugeVec
	FramesIn      *prometheus.CounterVec
	FramesOut     prometheus.Counter
	EventsOut     *prometheus.CounterVec
	Errors        *prometheus.CounterVec
	SlowConsumers prometheus.Counter
	// Panics counts panics recovered in one connection's handling, by
	// where they happened; each closed its connection with 1011.
	Panics *prometheus.CounterVec
	// ConnsRefused counts client websockets refused by a connection cap
	// (cap "node" or "ip").
	ConnsRefused *prometheus.CounterVec
}

// Gauges are values sampled at scrape time.
type Gauges struct {
	Rooms   func() float64 // rooms in the catalog
	Active  func() float64 // rooms with viewers owned here
	Viewers func() float64 // distinct viewers in rooms owned here
}

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer, g Gauges) *Metrics {
	m := &Metrics{
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "roomring_connections", Help: "Open client connections by dialect and world.",
		}, []string{"dialect", "world"}),
		FramesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_frames_in_total", Help: "Client frames received, by action.",
		}, []string{"action"}),
		FramesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_frames_out_total", Help: "Frames written to client sockets.",
		}),
		EventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_events_delivered_total", Help: "Pushed events queued to local sessions, by event.",
		}, []string{"event"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_errors_total", Help: "Error replies sent to clients, by code.",
		}, []string{"code"}),
		SlowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_slow_consumers_total", Help: "Connections closed because their write queue was full.",
		}),
		Panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_panics_total", Help: "Panics recovered in one connection's handling (the connection closed with 1011), by where.",
		}, []string{"where"}),
		ConnsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_connections_refused_total", Help: "Client websockets refused by a connection cap (429 or close 1013), by cap: node, ip or world (a World's connection quota).",
		}, []string{"cap"}),
	}
	reg.MustRegister(m.Connections, m.FramesIn, m.FramesOut, m.EventsOut, m.Errors, m.SlowConsumers, m.Panics, m.ConnsRefused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roomring_rooms", Help: "Rooms in the catalog."}, g.Rooms),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roomring_rooms_active", Help: "Rooms with viewers owned by this node."}, g.Active),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "roomring_viewers", Help: "Distinct viewers in rooms owned by this node."}, g.Viewers),
	)
	return m
}

// FrameIn counts an inbound frame.
func (m *Metrics) FrameIn(action string) { m.FramesIn.WithLabelValues(action).Inc() }

// Error counts an error reply.
func (m *Metrics) Panicked(where string) { m.Panics.WithLabelValues(where).Inc() }

func (m *Metrics) Error(code op.Code) { m.Errors.WithLabelValues(string(code)).Inc() }

// ForgetWorld drops the series of a world that is no longer served
// (roomring_connections{world}), so a deleted world leaves no zero series
// behind. A connection of the world still ending decrements a gauge no
// longer exported.
func (m *Metrics) ForgetWorld(id string) {
	m.Connections.DeletePartialMatch(prometheus.Labels{"world": id})
}
