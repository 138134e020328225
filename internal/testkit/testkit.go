// Package testkit is the home of roomring's test kit, the one place tests
// take their support from instead of writing it again:
//
//   - this package: waiting for a condition (Eventually, EventuallyNil,
//     Consistently), a test's logger (Logger), a goroutine-safe Buffer and
//     a check that the far end closed a connection (ClosedByPeer);
//   - node/nodetest: a node started in the test process (Start, StartWith),
//     venueless websocket clients (Dial, Login, Guest) and the admin API
//     client (AdminClient);
//   - node/nodetest/nodeproc: the real binary as child processes (Start,
//     StartMember, MemberArgs);
//   - test/socketio/sioagent: the real socket.io-client packages driven
//     through node;
//   - node/kube/kubetest (a real API server), node/store/postgres/pgtest (a
//     real PostgreSQL server) and node/store/storetest (the store
//     conformance suite).
//
// This package imports nothing of roomring, so that the tests inside every
// package, down to the cluster's membership and peer links, can use it.
package testkit

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// LogEnv names the environment variable that, set to anything, lowers the
// level of test logs from info to debug (and makes MainLogger write to
// stderr).
const LogEnv = "NODETEST_LOG"

// Poll intervals of Eventually: the first check is immediate, the next
// come after minPoll, doubling up to maxPoll.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 50 * time.Millisecond
)

// Eventually polls cond until it holds and fails the test when it still
// does not after timeout. what says what is waited for, as in "timed out
// after 5s waiting for <what>".
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// EventuallyNil polls cond until it returns nil and fails the test with
// cond's last error when it still does not after timeout.
func EventuallyNil(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	var last error
	if !poll(timeout, func() error { last = cond(); return last }) {
		t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, last)
	}
}

var errNotYet = errors.New("not yet")

// poll calls cond until it returns nil (true) or timeout has passed since
// the first call (false).
func poll(timeout time.Duration, cond func() error) bool {
	deadline := time.Now().Add(timeout)
	interval := minPoll
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if cond() == nil {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		timer.Reset(min(interval, time.Until(deadline)+time.Millisecond))
		<-timer.C
		interval = min(2*interval, maxPoll)
	}
}

// WaitCond waits on cond until ready reports true or timeout has passed,
// and returns ready's last answer. The caller holds cond.L, as for
// cond.Wait; ready is called with it held, and whoever changes what ready
// reads must broadcast on cond. It is the wait of a test's client or
// process for what a reader goroutine delivers.
func WaitCond(cond *sync.Cond, timeout time.Duration, ready func() bool) bool {
	if ready() {
		return true
	}
	deadline := time.Now().Add(timeout)
	// The caller holds cond.L until cond.Wait releases it, so this
	// broadcast cannot come before the wait it ends.
	timer := time.AfterFunc(timeout, func() { cond.L.Lock(); cond.Broadcast(); cond.L.Unlock() })
	defer timer.Stop()
	for time.Now().Before(deadline) {
		cond.Wait()
		if ready() {
			return true
		}
	}
	return false
}

// Consistently checks cond every maxPoll for d and fails the test as soon
// as it returns an error: a bounded wait for something that must NOT
// happen, for which there is nothing to wait for but time. Callers say in
// a comment why d is long enough.
func Consistently(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(maxPoll)
	defer tick.Stop()
	for {
		if err := cond(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !time.Now().Before(deadline) {
			return
		}
		<-tick.C
	}
}

// Logger returns a logger whose records go to t.Log, so that they are
// shown with a failing test (and with -v): info and above, or debug and
// above when NODETEST_LOG (LogEnv) is set. Records logged after the test
// has ended are dropped; the logger's cleanup is registered first, so
// what the test starts afterwards (and stops in its own cleanups) logs up
// to its end.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level()}))
}

// MainLogger is the logger of code that runs outside a test (a TestMain):
// nothing, or debug and above on stderr when NODETEST_LOG is set.
func MainLogger() *slog.Logger {
	if os.Getenv(LogEnv) == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func level() slog.Level {
	if os.Getenv(LogEnv) != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// testWriter passes each write (one record of a slog.TextHandler) to t.Log
// until stop; its lock orders the writes with stop, so that nothing reaches
// t.Log once the test is over (which would panic).
type testWriter struct {
	t       testing.TB
	mu      sync.Mutex
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// Buffer collects what goroutines write (a logger's records, a process's
// output) for a test to read; its methods may be called concurrently.
type Buffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ClosedByPeer reports whether the other end closed c within wait (rather
// than leaving it open for the whole wait); what c receives meanwhile is
// read and dropped.
func ClosedByPeer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := io.ReadAll(c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}
