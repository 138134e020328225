package postgres

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is the PostgreSQL store's configuration. DSN comes from the node's
// --store flag (or ROOMRING_STORE); every other field is a --store-* flag
// (docs/storage.md lists them with their defaults).
type Config struct {
	// DSN is the connection string, postgres://user:pass@host:port/db?... or
	// the key=value form; libpq's PG* environment variables fill gaps.
	DSN string
	// MaxConns is the connection pool's size: the group committer holds one
	// connection per batch, reads use the others.
	MaxConns int
	// ConnectTimeout bounds establishing one connection (dial, TLS, auth).
	ConnectTimeout time.Duration
	// OpTimeout bounds one store operation: a read, a catalog write, or one
	// group-commit transaction. A write may also wait in the commit queue
	// for up to OpTimeout before its transaction starts; one that waited
	// longer is failed without being applied. An operation that runs out of
	// time fails with store.ErrUnavailable. In a cluster it should be
	// shorter than the cluster's ForwardTimeout, so the owner's verdict on a
	// forwarded write reaches the client's node before that node gives up
	// (docs/storage.md; the node warns otherwise).
	OpTimeout time.Duration
	// BatchMaxItems is the most reaction writes one group-commit transaction
	// carries.
	BatchMaxItems int
	// BatchMaxDelay is how long the committer waits for more writes after
	// the first of a batch before it commits. 0 commits at once with the
	// writes that are already queued, which batches by itself under load
	// (writes queue up while the previous transaction commits).
	BatchMaxDelay time.Duration
	// QueueLen bounds the reaction writes waiting for the committer; a
	// writer finding it full waits (up to OpTimeout) for room.
	QueueLen int
	// MigrateTimeout bounds waiting for the migration lock (another node may
	// hold it) and applying the schema migrations on start.
	MigrateTimeout time.Duration
	// HealthInterval is the period of the database ping that keeps the
	// roomring_store_up gauge current while no operation runs.
	HealthInterval time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxConns:       8,
		ConnectTimeout: 5 * time.Second,
		OpTimeout:      2500 * time.Millisecond, // below the cluster's --forward-timeout (3s)
		BatchMaxItems:  256,
		BatchMaxDelay:  0,
		QueueLen:       4096,
		MigrateTimeout: time.Minute,
		HealthInterval: 10 * time.Second,
	}
}

// RegisterFlags registers the settings on fs with their defaults. The DSN is
// the node's --store flag, not registered here.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.MaxConns, "store-max-conns", d.MaxConns, "PostgreSQL store: connection pool size")
	fs.DurationVar(&c.ConnectTimeout, "store-connect-timeout", d.ConnectTimeout, "PostgreSQL store: deadline of establishing one connection")
	fs.DurationVar(&c.OpTimeout, "store-op-timeout", d.OpTimeout, "PostgreSQL store: deadline of one operation or group-commit transaction (and of a write's wait in the commit queue); beyond it the client gets server.unavailable")
	fs.IntVar(&c.BatchMaxItems, "store-batch-max", d.BatchMaxItems, "PostgreSQL store: most resource reaction writes committed in one transaction")
	fs.DurationVar(&c.BatchMaxDelay, "store-batch-delay", d.BatchMaxDelay, "PostgreSQL store: how long a group commit waits for more writes after its first (0: commit what is queued at once)")
	fs.IntVar(&c.QueueLen, "store-queue", d.QueueLen, "PostgreSQL store: resource reaction writes waiting for the committer before writers wait")
	fs.DurationVar(&c.MigrateTimeout, "store-migrate-timeout", d.MigrateTimeout, "PostgreSQL store: deadline of taking the migration lock and migrating the schema on start")
	fs.DurationVar(&c.HealthInterval, "store-health-interval", d.HealthInterval, "PostgreSQL store: period of the ping behind the roomring_store_up gauge")
}

// Validate reports a configuration that cannot work. It parses the DSN but
// does not connect.
func (c *Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("the PostgreSQL DSN is empty"))
	} else if _, err := pgxpool.ParseConfig(c.DSN); err != nil {
		// pgconn redacts the password in its parse errors.
		errs = append(errs, fmt.Errorf("invalid PostgreSQL DSN: %w", err))
	}
	if c.MaxConns < 2 || c.MaxConns > 1000 {
		errs = append(errs, errors.New("store-max-conns must be 2 to 1000 (the committer holds one)"))
	}
	if c.ConnectTimeout <= 0 || c.OpTimeout <= 0 || c.MigrateTimeout <= 0 || c.HealthInterval <= 0 {
		errs = append(errs, errors.New("store-connect-timeout, store-op-timeout, store-migrate-timeout and store-health-interval must be positive"))
	}
	if c.BatchMaxItems < 1 || c.BatchMaxItems > 10000 {
		errs = append(errs, errors.New("store-batch-max must be 1 to 10000"))
	}
	if c.BatchMaxDelay < 0 || c.BatchMaxDelay > time.Second {
		errs = append(errs, errors.New("store-batch-delay must be 0 to 1s"))
	}
	if c.QueueLen < 1 {
		errs = append(errs, errors.New("store-queue must be at least 1"))
	}
	return errors.Join(errs...)
}
