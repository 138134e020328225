package testkit

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeT records what a helper reports instead of failing the real test;
// Fatalf ends the calling goroutine as testing.T's does.
type fakeT struct {
	testing.TB
	failed  atomic.Bool
	msg     string
	logs    []string
	cleanup []func()
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed.Store(true)
	f.msg = formatf(format, args...)
	panic(errFatal)
}
func (f *fakeT) Log(args ...any)   { f.logs = append(f.logs, args[0].(string)) }
func (f *fakeT) Cleanup(fn func()) { f.cleanup = append(f.cleanup, fn) }

var errFatal = errors.New("fatal")

func formatf(format string, args ...any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}

// run calls fn with f, recovering the panic of Fatalf.
func run(f *fakeT, fn func(testing.TB)) {
	defer func() {
		if r := recover(); r != nil && r != errFatal {
			panic(r)
		}
	}()
	fn(f)
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	var calls atomic.Int32
	f := &fakeT{}
	run(f, func(tb testing.TB) {
		Eventually(tb, 5*time.Second, "three calls", func() bool { return calls.Add(1) >= 3 })
	})
	if f.failed.Load() || calls.Load() != 3 {
		t.Fatalf("failed %v (%s) after %d calls", f.failed.Load(), f.msg, calls.Load())
	}
}

func TestEventuallyFailsAtTheDeadline(t *testing.T) {
	f := &fakeT{}
	start := time.Now()
	run(f, func(tb testing.TB) { Eventually(tb, 100*time.Millisecond, "never", func() bool { return false }) })
	if !f.failed.Load() || !strings.Contains(f.msg, "waiting for never") {
		t.Fatalf("failed %v: %q", f.failed.Load(), f.msg)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("gave up after %v", d)
	}
}

func TestEventuallyNilReportsTheLastError(t *testing.T) {
	f := &fakeT{}
	run(f, func(tb testing.TB) {
		EventuallyNil(tb, 50*time.Millisecond, "nil", func() error { return errors.New("still 3") })
	})
	if !f.failed.Load() || !strings.HasSuffix(f.msg, "waiting for nil: still 3") {
		t.Fatalf("failed %v: %q", f.failed.Load(), f.msg)
	}
}

func TestConsistentlyFailsOnTheFirstError(t *testing.T) {
	var calls atomic.Int32
	f := &fakeT{}
	run(f, func(tb testing.TB) {
		Consistently(tb, 5*time.Second, "quiet", func() error {
			if calls.Add(1) == 2 {
				return errors.New("noise")
			}
			return nil
		})
	})
	if !f.failed.Load() || f.msg != "quiet: noise" || calls.Load() != 2 {
		t.Fatalf("failed %v: %q after %d calls", f.failed.Load(), f.msg, calls.Load())
	}
	f = &fakeT{}
	run(f, func(tb testing.TB) { Consistently(tb, 60*time.Millisecond, "quiet", func() error { return nil }) })
	if f.failed.Load() {
		t.Fatalf("failed: %q", f.msg)
	}
}

func TestLoggerStopsAtCleanup(t *testing.T) {
	f := &fakeT{}
	log := Logger(f)
	log.Info("hello", "k", 1)
	for _, c := range f.cleanup {
		c()
	}
	log.Info("after the test")
	if len(f.logs) != 1 || !strings.Contains(f.logs[0], "msg=hello k=1") {
		t.Fatalf("logs %q", f.logs)
	}
}

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	for range 4 {
		go func() { _, _ = b.Write([]byte("ab")); done <- struct{}{} }()
	}
	for range 4 {
		<-done
	}
	if got := b.String(); got != "abababab" {
		t.Fatalf("buffer %q", got)
	}
}

func TestWaitCondWakesOnBroadcastAndTimesOut(t *testing.T) {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	n := 0
	go func() {
		for range 3 {
			mu.Lock()
			n++
			cond.Broadcast()
			mu.Unlock()
		}
	}()
	mu.Lock()
	ok := WaitCond(cond, 10*time.Second, func() bool { return n == 3 })
	mu.Unlock()
	if !ok {
		t.Fatal("WaitCond missed the broadcasts")
	}
	start := time.Now()
	mu.Lock()
	ok = WaitCond(cond, 50*time.Millisecond, func() bool { return n == 4 })
	mu.Unlock()
	if ok || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("WaitCond returned %v after %v", ok, time.Since(start))
	}
}
