// Package nodeproc runs the real roomring binary as child processes of a
// test: cluster members that can be killed for real (SIGKILL), the
// operator, or whatever command line a test needs. The binary is built once
// per test binary (Binary); a process's output is kept, its JSON log records
// can be waited for, and the output is logged when the test fails.
package nodeproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary builds the roomring binary of this checkout (once per test binary)
// and returns its path. Main, or RemoveBinary in a TestMain of the caller's
// own, removes it when the tests are done.
func Binary(t testing.TB) string {
	t.Helper()
	bin.once.Do(func() {
		if bin.dir, bin.err = os.MkdirTemp("", "roomring-test-bin-"); bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "roomring")
		cmd := exec.Command("go", "build", "-o", bin.path, ".")
		cmd.Dir = nodetest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			bin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// RemoveBinary removes what Binary built, if anything; a TestMain calls it
// after m.Run.
func RemoveBinary() {
	if bin.dir != "" {
		_ = os.RemoveAll(bin.dir)
	}
}

// Main is the TestMain of a package that needs nothing else: it runs the
// tests, removes the binary and exits.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBinary()
	os.Exit(code)
}

// FreeAddr returns an address on host whose port was free a moment ago, for
// a listener whose address a process must be given before it could report
// it.
func FreeAddr(t testing.TB, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Proc is a child process of a test.
type Proc struct {
	Name string // for messages
	Cmd  *exec.Cmd

	t    testing.TB
	done chan struct{} // closed once the process exited and its output is read
	err  error         // what Cmd.Wait returned, set before done is closed

	mu   sync.Mutex
	cond *sync.Cond                // signalled on a new record and on exit
	out  bytes.Buffer              // stdout and stderr
	recs map[string]map[string]any // the first JSON log record of each message
}

// Start starts cmd as the caller made it (path, arguments, environment,
// directory; Stdout and Stderr must be nil) and kills it when the test
// ends, logging its output if the test failed. Its stdout and stderr are
// kept (Output); the lines of stderr that are JSON log records
// (--log-format=json) can be waited for (Record). Methods that fail a test
// fail t, so they belong to t's goroutine.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Name: name, Cmd: cmd, t: t, done: make(chan struct{}), recs: map[string]map[string]any{}}
	p.cond = sync.NewCond(&p.mu)
	cmd.Stdout = writerFunc(p.write)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.line(sc.Bytes())
		}
		_, _ = io.Copy(writerFunc(p.write), stderr) // what follows a line too long to scan
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it all first
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		close(p.done)
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.Output())
		}
	})
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *Proc) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// line keeps a line of stderr, and its record when it is a JSON log record.
func (p *Proc) line(b []byte) {
	var rec map[string]any
	if json.Unmarshal(b, &rec) != nil {
		rec = nil
	}
	msg, _ := rec["msg"].(string)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Write(b)
	p.out.WriteByte('\n')
	if msg != "" && p.recs[msg] == nil {
		p.recs[msg] = rec
		p.cond.Broadcast()
	}
}

// Output returns what the process wrote so far, stdout and stderr
// interleaved as they arrived.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Record waits up to timeout for the process's first JSON log record whose
// message is msg and returns it; it fails the test when the process exits
// first or the time is up.
func (p *Proc) Record(msg string, timeout time.Duration) map[string]any {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	exited := false
	testkit.WaitCond(p.cond, timeout, func() bool {
		select {
		case <-p.done:
			exited = true
		default:
		}
		return p.recs[msg] != nil || exited
	})
	switch {
	case p.recs[msg] != nil:
		return p.recs[msg]
	case exited:
		p.t.Fatalf("%s exited (%v) before logging %q:\n%s", p.Name, p.err, msg, p.out.String())
	default:
		p.t.Fatalf("%s did not log %q within %v:\n%s", p.Name, msg, timeout, p.out.String())
	}
	return nil
}

// Exited is closed once the process has exited (and its output is read).
func (p *Proc) Exited() <-chan struct{} { return p.done }

// Wait waits up to timeout for the process to exit and returns what
// exec.Cmd.Wait returned (nil for an exit status 0); it fails the test
// when the time is up.
func (p *Proc) Wait(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.Name, timeout)
		return nil
	}
}

// Kill sends SIGKILL (nothing once the process exited) and waits until the
// process is gone.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.done
}
