package postgres

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		var c Config
		c.RegisterFlags(flag.NewFlagSet("test", flag.ContinueOnError)) // the flag defaults
		c.DSN = "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"
		return c
	}
	if c := valid(); c.Validate() != nil {
		err := c.Validate()
		t.Fatalf("defaults: %v", err)
	}
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"no DSN":        {func(c *Config) { c.DSN = "" }, "DSN is empty"},
		"bad DSN":       {func(c *Config) { c.DSN = "postgres://u:topsecret@host:notaport/db" }, "invalid PostgreSQL DSN"},
		"pool of one":   {func(c *Config) { c.MaxConns = 1 }, "store-max-conns"},
		"no op timeout": {func(c *Config) { c.OpTimeout = 0 }, "store-op-timeout"},
		"empty batch":   {func(c *Config) { c.BatchMaxItems = 0 }, "store-batch-max"},
		"long delay":    {func(c *Config) { c.BatchMaxDelay = 2 * time.Second }, "store-batch-delay"},
		"no queue":      {func(c *Config) { c.QueueLen = 0 }, "store-queue"},
	} {
		c := valid()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

func TestMigrationsEmbedded(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "0001_init" || !strings.Contains(ms[0].sql, "roomring_resource_reactions") {
		t.Fatalf("migrations = %+v", ms)
	}
}

// TestExpiredWriteIsDropped: a write whose writer gave up while it was
// queued is answered without being applied — ErrUnavailable when its
// deadline passed, the cancellation when the writer went away.
func TestExpiredWriteIsDropped(t *testing.T) {
	s := &Store{cfg: DefaultConfig()}
	s.m = newMetrics(s)
	expired, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	live := &write{ctx: context.Background(), done: make(chan result, 1)}
	for _, tc := range []struct {
		ctx         context.Context
		unavailable bool
	}{{expired, true}, {canceled, false}} {
		w := &write{ctx: tc.ctx, kind: writePut, done: make(chan result, 1)}
		batch := s.admit([]*write{live}, w)
		if len(batch) != 1 || batch[0] != live {
			t.Fatalf("an expired write joined the batch: %d writes", len(batch))
		}
		res := <-w.done
		if res.err == nil || errors.Is(res.err, store.ErrUnavailable) != tc.unavailable {
			t.Fatalf("expired write answered %v, unavailable want %v", res.err, tc.unavailable)
		}
	}
	if batch := s.admit(nil, live); len(batch) != 1 {
		t.Fatal("a live write was not admitted")
	}
}
