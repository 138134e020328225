package node

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/bolt"
	"github.com/roomring/roomring/node/store/postgres"
)

// EnvStore is the environment variable read when --store is not given; it
// keeps a DSN's password out of the process list (docs/storage.md).
const EnvStore = "ROOMRING_STORE"

// usesPostgres reports whether the --store value selects PostgreSQL.
func usesPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// registerStoreFlags registers --store and the PostgreSQL store's settings.
func (c *Config) registerStoreFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Store, "store", "", `durable store: empty or "bolt" for the embedded store in --data-dir, or a postgres://user:pass@host:port/db DSN (env `+EnvStore+`, which keeps the password out of the process list)`)
	c.Postgres.RegisterFlags(fs)
}

// completeStore fills the store selection from the environment.
func (c *Config) completeStore() {
	if c.Store == "" {
		c.Store = os.Getenv(EnvStore)
	}
	if usesPostgres(c.Store) {
		c.Postgres.DSN = c.Store
	}
}

// validateStore reports an unusable store selection.
func (c *Config) validateStore() error {
	switch {
	case c.Store == "" || c.Store == "bolt":
		return nil
	case usesPostgres(c.Store):
		if err := c.Postgres.Validate(); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		return nil
	default:
		return errors.New(`--store must be empty or "bolt" (the embedded store in --data-dir) or a postgres:// DSN`)
	}
}

// storeWarnings are store settings that work but are likely mistakes. In a
// cluster a write reaches the room's owner over a peer link and the client's
// node gives up after --forward-timeout; an owner that may wait longer for
// PostgreSQL (--store-op-timeout) can commit a write after the client was
// told server.unavailable (docs/storage.md, "What a failure costs").
func (c *Config) storeWarnings() []Warning {
	if !c.Cluster.Enabled() || !usesPostgres(c.Store) || c.Postgres.OpTimeout < c.Cluster.ForwardTimeout {
		return nil
	}
	return []Warning{{
		Msg:  "--store-op-timeout is not shorter than --forward-timeout: a write forwarded to a room's owner can be refused to its client (server.unavailable) and still be stored afterwards; set --store-op-timeout below --forward-timeout",
		Args: []any{"store_op_timeout", c.Postgres.OpTimeout.String(), "forward_timeout", c.Cluster.ForwardTimeout.String()},
	}}
}

// openStore opens the store cfg selects; the PostgreSQL store registers its
// metrics on reg.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (store.Store, error) {
	if usesPostgres(cfg.Store) {
		st, err := postgres.Open(ctx, cfg.Postgres, log.With("component", "store"), reg)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return st, nil
	}
	return bolt.Open(cfg.DataDir)
}
