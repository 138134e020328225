// Package pgtest gives tests real PostgreSQL servers: Debian's binaries,
// started by hack/postgres.sh with data and unix socket in a temporary
// directory, listening on 127.0.0.1 only.
//
// Tests that only need a database call DB, which creates a fresh database on
// the server named by ROOMRING_TEST_PG_DSN (a superuser or CREATEDB role),
// or else on a throwaway server shared by the package's tests (started on
// first use; the package's TestMain calls Main to destroy it). Tests that
// stop, crash or restart the server start their own with Start.
//
// Without PostgreSQL the tests fail, pointing at hack/setup-test-deps.sh;
// ROOMRING_SKIP_PG=1 skips them instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by this package.
const (
	// EnvDSN names an existing server for DB (its role must be able to
	// create databases).
	EnvDSN = "ROOMRING_TEST_PG_DSN"
	// EnvSkip=1 skips the tests that need PostgreSQL.
	EnvSkip = "ROOMRING_SKIP_PG"
)

// scriptTimeout bounds one hack/postgres.sh run (initdb plus start, or a
// stop; a crash recovery replays the WAL on start).
const scriptTimeout = 2 * time.Minute

// Server is a throwaway PostgreSQL server of one test or package.
type Server struct {
	// Dir holds the data directory, the unix socket and server.log.
	Dir string
	// DSN reaches the server's postgres database as its superuser; it stays
	// the same across Stop/Kill and Start.
	DSN string
}

func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "hack", "postgres.sh")
}

// run runs hack/postgres.sh with args and returns what it printed on
// stdout (the DSN). Its stderr is not part of the result: a start that
// retried on another port (the one it picked was taken meanwhile) reports
// pg_ctl's failure there and still succeeds.
func run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	var stdout, stderr strings.Builder
	cmd := exec.CommandContext(ctx, script(), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/postgres.sh %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

func skipIfAsked(tb testing.TB) {
	tb.Helper()
	if os.Getenv(EnvSkip) == "1" {
		tb.Skipf("%s=1: skipping a test that needs PostgreSQL", EnvSkip)
	}
}

func startServer() (*Server, error) {
	// Directly under the temp root: when the tests run as root the server
	// runs as the postgres user, which must traverse the parents.
	dir, err := os.MkdirTemp("", "roomring-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	dsn, err := run("start", dir)
	if err != nil {
		if _, derr := run("destroy", dir); derr != nil {
			_ = os.RemoveAll(dir) // no server binaries: nothing can be running there
		}
		return nil, fmt.Errorf("pgtest: %w (install PostgreSQL with hack/setup-test-deps.sh, or set %s=1 to skip)", err, EnvSkip)
	}
	return &Server{Dir: dir, DSN: dsn}, nil
}

func (s *Server) destroy() error {
	_, err := run("destroy", s.Dir)
	return err
}

// Start starts a server of the calling test's own, destroyed when the test
// ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	skipIfAsked(tb)
	s, err := startServer()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.destroy(); err != nil {
			tb.Errorf("destroy PostgreSQL server: %v", err)
		}
	})
	return s
}

// Stop shuts the server down cleanly (data kept).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if _, err := run("stop", s.Dir); err != nil {
		tb.Fatal(err)
	}
}

// Kill crashes the server (immediate shutdown: no checkpoint, the next
// start recovers from the WAL).
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	if _, err := run("kill", s.Dir); err != nil {
		tb.Fatal(err)
	}
}

// Start starts the stopped server again on the same port.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if _, err := run("start", s.Dir); err != nil {
		tb.Fatal(err)
	}
}

// CreateDB creates a fresh database on the server and returns its DSN; the
// database is dropped when the test ends.
func (s *Server) CreateDB(tb testing.TB) string {
	tb.Helper()
	return createDB(tb, s.DSN)
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// DB returns the DSN of a fresh, empty database, dropped when the test
// ends: on ROOMRING_TEST_PG_DSN's server when set, else on the package's
// shared throwaway server.
func DB(tb testing.TB) string {
	tb.Helper()
	skipIfAsked(tb)
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return createDB(tb, dsn)
	}
	shared.once.Do(func() { shared.srv, shared.err = startServer() })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return createDB(tb, shared.srv.DSN)
}

// Main runs a package's tests and then destroys the shared server DB may
// have started: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.destroy(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func createDB(tb testing.TB, serverDSN string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "roomring_test_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverDSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return WithDatabase(tb, serverDSN, name)
}

// WithDatabase returns dsn with its database replaced by name.
func WithDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("pgtest: parse DSN: %v", err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form: a later key wins
}
