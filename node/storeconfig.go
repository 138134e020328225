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
	fs.BoolVar(&c.AllowNodeLocalStore, "allow-node-local-store", false, "let a cluster member run on the embedded store in --data-dir: each node keeps its own reactions, which clients of the other nodes do not see (tests and benchmarks only; logged as a warning)")
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

// errNodeLocalStore refuses a cluster member on the embedded store.
var errNodeLocalStore = errors.New("a cluster member needs the pool's shared store: give every node the same PostgreSQL DSN (--store postgres://... or " + EnvStore + "); " +
	"on the embedded store each node keeps the reactions of the rooms it owns, and clients served by another node read them back empty. " +
	"For a local pool run `make run-cluster`; to accept node-local stores anyway (tests, benchmarks) pass --allow-node-local-store")

// validatePoolStore refuses a cluster member whose store is node-local,
// --dev or not, unless AllowNodeLocalStore opts in.
func (c *Config) validatePoolStore() error {
	if !c.Cluster.Enabled() || usesPostgres(c.Store) || c.AllowNodeLocalStore {
		return nil
	}
	return errNodeLocalStore
}

// AcceptedRisks are settings given on purpose that leave the pool weaker
// than it looks; unlike Warnings they are not mistakes, and the node logs
// them at start at warn level.
func (c *Config) AcceptedRisks() []Warning {
	if !c.Cluster.Enabled() || usesPostgres(c.Store) || !c.AllowNodeLocalStore {
		return nil
	}
	return []Warning{{
		Msg: "NODE-LOCAL STORE IN A POOL (--allow-node-local-store): this node keeps the reactions of the rooms it owns in its own store; clients served by another node do not see them and they are lost when the ring moves a room. Use one PostgreSQL for the whole pool outside tests and benchmarks",
	}}
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
