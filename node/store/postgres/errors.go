package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roomring/roomring/node/store"
)

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("postgres store: closed")

// errInvalidText is wrapped by errors of writes whose strings PostgreSQL's
// text type cannot hold (NUL bytes, invalid UTF-8).
var errInvalidText = errors.New("not storable as PostgreSQL text")

// unavailable reports whether err means the database could not be reached
// or did not answer in time, rather than that it refused the statement.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources: too many connections, disk full, out of memory
			"57", // operator intervention: admin/crash shutdown, cannot connect now, statement timeout
			"58": // system error (I/O)
			return true
		}
		// A read-only transaction: the DSN reached a standby (a failover
		// is under way).
		return pgErr.Code == "25006"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// wrap gives err the context what and, when the database was unreachable,
// store.ErrUnavailable.
func wrap(what string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
