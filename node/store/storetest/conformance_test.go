package storetest_test

import (
	"context"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/bolt"
	"github.com/roomring/roomring/node/store/postgres"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/node/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestBolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func(t *testing.T) store.Store {
			s, err := bolt.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}, storetest.Options{})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		cfg := postgres.DefaultConfig()
		cfg.DSN = pgtest.DB(t)
		return func(t *testing.T) store.Store {
			// A fresh registry per open: a reopened store registers again.
			s, err := postgres.Open(context.Background(), cfg, testkit.Logger(t), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}, storetest.Options{})
}
