package postgres

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/store"
)

// metrics are the store's collectors (docs/storage.md).
type metrics struct {
	ops        *prometheus.CounterVec
	up         prometheus.Gauge
	batchSize  prometheus.Histogram
	commitTime prometheus.Histogram
	funcs      []prometheus.Collector
}

func newMetrics(s *Store) *metrics {
	stat := func(f func(acquired, idle, total int32) int32) func() float64 {
		return func() float64 {
			st := s.pool.Stat()
			return float64(f(st.AcquiredConns(), st.IdleConns(), st.TotalConns()))
		}
	}
	return &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_store_operations_total",
			Help: "PostgreSQL store operations by operation and result (ok, not_found, unavailable, error).",
		}, []string{"op", "result"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roomring_store_up",
			Help: "1 when the last store operation or health ping reached PostgreSQL, 0 when the database was unavailable.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomring_store_commit_batch_size",
			Help:    "Resource reaction writes per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "roomring_store_commit_seconds",
			Help:    "Duration of group-commit transactions (including a retry or per-write fallback).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 15),
		}),
		funcs: []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "roomring_store_commit_queue",
				Help: "Resource reaction writes waiting for the group committer.",
			}, func() float64 { return float64(len(s.queue)) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "roomring_store_pool_acquired_conns", Help: "PostgreSQL connections in use.",
			}, stat(func(a, _, _ int32) int32 { return a })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "roomring_store_pool_idle_conns", Help: "Idle PostgreSQL connections in the pool.",
			}, stat(func(_, i, _ int32) int32 { return i })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "roomring_store_pool_total_conns", Help: "PostgreSQL connections in the pool (including ones being opened).",
			}, stat(func(_, _, t int32) int32 { return t })),
		},
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range append([]prometheus.Collector{m.ops, m.up, m.batchSize, m.commitTime}, m.funcs...) {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register store metrics: %w", err)
		}
	}
	return nil
}

// observe counts an operation's outcome and keeps the up gauge current.
func (m *metrics) observe(op string, err error) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		result = "not_found"
	case errors.Is(err, store.ErrUnavailable) || unavailable(err):
		result = "unavailable"
	default:
		result = "error"
	}
	m.ops.WithLabelValues(op, result).Inc()
	if result == "unavailable" {
		m.up.Set(0)
	} else if !errors.Is(err, errInvalidText) && !errors.Is(err, ErrClosed) {
		m.up.Set(1)
	}
}
