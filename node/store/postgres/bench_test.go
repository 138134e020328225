package postgres

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
)

// BenchmarkPutReaction compares resource reaction write throughput against
// a real server (docs/benchmarks.md, "Store"):
//
//   - group-commit: the store as shipped (DefaultConfig);
//   - group-commit-world: the same with every row in one world (counted
//     by migration 0003's trigger under the world's row lock; the other
//     modes write world "", not counted);
//   - group-commit-world-quota: the same with a world quota no write
//     reaches (checked under that lock too);
//   - group-commit-delay-1ms: the committer with BatchMaxDelay 1ms;
//   - tx-per-write: the naive alternative, every write its own
//     (autocommit) transaction on a pool of the same size, concurrently;
//   - serial-batch-1: the committer with BatchMaxItems 1 (one transaction
//     per write, one at a time).
//
// Each writer count runs b.N writes in total, on fresh keys.
func BenchmarkPutReaction(b *testing.B) {
	for _, writers := range []int{1, 16, 64, 256} {
		for _, mode := range []string{"group-commit", "group-commit-world", "group-commit-world-quota", "group-commit-delay-1ms", "tx-per-write", "serial-batch-1"} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode, writers), func(b *testing.B) {
				benchWrites(b, mode, writers)
			})
		}
	}
}

func benchWrites(b *testing.B, mode string, writers int) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.DSN = pgtest.DB(b)
	switch mode {
	case "group-commit-delay-1ms":
		cfg.BatchMaxDelay = time.Millisecond
	case "serial-batch-1":
		cfg.BatchMaxItems = 1
	}
	s, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var put func(r store.ResourceReaction) error
	if mode == "tx-per-write" {
		pc, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			b.Fatal(err)
		}
		pc.MaxConns = int32(cfg.MaxConns)
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		put = func(r store.ResourceReaction) error {
			k := r.ReactionKey
			_, err := pool.Exec(ctx, sqlPutReaction, k.Resource, k.Comment, k.UserID, r.Reaction, r.Incognito, r.Updated, r.Room, r.World, 0)
			return err
		}
	} else {
		world, max := worldOf(mode)
		put = func(r store.ResourceReaction) error {
			r.World = world
			return s.PutReaction(ctx, r, max)
		}
	}
	at := time.Now().UTC()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				r := store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: fmt.Sprint("res", i%10), UserID: fmt.Sprintf("w%d-%d", w, i)},
					Reaction: "👍", Updated: at}
				if err := put(r); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	if mode != "tx-per-write" {
		var h dto.Metric
		if err := s.m.batchSize.Write(&h); err != nil {
			b.Fatal(err)
		}
		if n := h.GetHistogram().GetSampleCount(); n > 0 {
			b.ReportMetric(h.GetHistogram().GetSampleSum()/float64(n), "writes/commit")
		}
	}
}

// worldOf is the world and quota the writes of mode are made in.
func worldOf(mode string) (string, int) {
	switch mode {
	case "group-commit-world":
		return "expo", 0
	case "group-commit-world-quota":
		return "expo", 1 << 30
	}
	return "", 0
}
