package venueless_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// PinnedCommit is the venueless commit whose web-app code the tests run
// (github.com/venueless/venueless, "Web Push (#742)").
const PinnedCommit = "36069d591e9eb1e6cde28be29af54bb07c9b548b"

// SrcEnv names the environment variable with the path of a venueless git
// repository (bare, or a clone with a work tree) that holds PinnedCommit;
// DefaultSrc is used when it is unset.
const (
	SrcEnv     = "VENUELESS_SRC"
	DefaultSrc = "/work/.mirror/venueless+venueless/repo"
)

// extracted is what the tests take from the web app, under webapp/src:
// the store and every module it imports but those that draw the UI (the
// agent replaces these), and the router, whose route table the invite
// redirect must match.
var extracted = []string{
	"webapp/src/store",
	"webapp/src/lib/api.js",
	"webapp/src/lib/WebSocketClient.js",
	"webapp/src/lib/ApiError.js",
	"webapp/src/lib/traitGrants.js",
	"webapp/src/lib/timetravelMoment.js",
	"webapp/src/lib/feature-detect.js",
	"webapp/src/router/index.js",
}

// replyTimeout bounds one agent command (a client's connect waits 10 s
// inside the agent).
const replyTimeout = 30 * time.Second

// extract writes the web app's files at PinnedCommit into a temporary
// directory and returns its webapp/src; without a repository holding the
// commit, it skips t saying how to provide one.
func extract(t *testing.T) string {
	t.Helper()
	repo := os.Getenv(SrcEnv)
	if repo == "" {
		repo = DefaultSrc
	}
	gitDir := repo
	if st, err := os.Stat(filepath.Join(repo, ".git")); err == nil && st.IsDir() {
		gitDir = filepath.Join(repo, ".git")
	}
	skip := func(why string) {
		t.Helper()
		t.Skipf("venueless' web app is not available (%s): set %s to a git clone of github.com/venueless/venueless that holds commit %s (default %s)", why, SrcEnv, PinnedCommit, DefaultSrc)
	}
	if _, err := os.Stat(gitDir); err != nil {
		skip(gitDir + " does not exist")
	}
	if out, err := exec.Command("git", "--git-dir", gitDir, "cat-file", "-e", PinnedCommit+"^{commit}").CombinedOutput(); err != nil {
		skip(fmt.Sprintf("%s lacks the commit: %v %s", gitDir, err, out))
	}
	dir := t.TempDir()
	archive := exec.Command("git", append([]string{"--git-dir", gitDir, "archive", PinnedCommit}, extracted...)...)
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	var stderr strings.Builder
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v %s", PinnedCommit, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("tar: %v %s", err, stderr.String())
	}
	return filepath.Join(dir, "webapp", "src")
}

// agent is a running agent.mjs: one command at a time.
type agent struct {
	t      *testing.T
	stdin  io.WriteCloser
	lines  chan string
	next   int
	mu     sync.Mutex
	stderr strings.Builder
}

type reply struct {
	ID     int             `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
}

// startAgent extracts the web app and starts agent.mjs on it. Node and
// the npm packages are required (hack/setup-test-deps.sh installs them);
// the web app's source may be missing, and then t is skipped (extract).
func startAgent(t *testing.T) *agent {
	t.Helper()
	src := extract(t)
	dir := filepath.Join(nodetest.RepoRoot(), "test", "venueless")
	missing := func(what string) {
		t.Helper()
		if os.Getenv(sioagent.SkipEnv) == "1" {
			t.Skipf("%s=1: skipping, %s", sioagent.SkipEnv, what)
		}
		t.Fatalf("%s: run hack/setup-test-deps.sh (it runs npm ci in test/venueless), or set %s=1 to skip the tests that need node", what, sioagent.SkipEnv)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing("node (v18 or later) is not installed")
	}
	for _, pkg := range []string{"vuex", "vue", "vue-router", "esbuild", "ws"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing("test/venueless/node_modules/" + pkg + " is missing")
		}
	}
	cmd := exec.Command(nodeBin, "agent.mjs", src)
	cmd.Dir = dir
	a := &agent{t: t, lines: make(chan string, 64)}
	if a.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.stderr.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent.mjs: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
		close(a.lines)
	}()
	t.Cleanup(func() {
		_ = a.stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("agent.mjs stderr:\n%s", a.log())
		}
	})
	if r := a.read(); !r.OK { // the bundle is built
		t.Fatalf("agent.mjs did not start: %s", r.Error)
	}
	return a
}

func (a *agent) log() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stderr.String()
}

func (a *agent) read() reply {
	a.t.Helper()
	select {
	case line, ok := <-a.lines:
		if !ok {
			a.t.Fatalf("agent.mjs exited; stderr:\n%s", a.log())
		}
		var r reply
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			a.t.Fatalf("agent.mjs wrote %q: %v", line, err)
		}
		return r
	case <-time.After(replyTimeout):
		a.t.Fatalf("agent.mjs did not answer within %v; stderr:\n%s", replyTimeout, a.log())
	}
	return reply{}
}

// try sends a command and returns its reply.
func (a *agent) try(cmd string, args map[string]any) reply {
	a.t.Helper()
	a.next++
	msg := map[string]any{"id": a.next, "cmd": cmd}
	for k, v := range args {
		msg[k] = v
	}
	b, err := json.Marshal(msg)
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.stdin.Write(append(b, '\n')); err != nil {
		a.t.Fatalf("write to agent.mjs: %v", err)
	}
	r := a.read()
	if r.ID != a.next {
		a.t.Fatalf("agent.mjs answered %d to command %d", r.ID, a.next)
	}
	return r
}

// do sends a command that must succeed and decodes its result into v
// (when not nil).
func (a *agent) do(cmd string, args map[string]any, v any) {
	a.t.Helper()
	r := a.try(cmd, args)
	if !r.OK {
		a.t.Fatalf("%s %v: %s", cmd, args, r.Error)
	}
	if v != nil {
		if err := json.Unmarshal(r.Result, v); err != nil {
			a.t.Fatalf("%s result %s: %v", cmd, r.Result, err)
		}
	}
}

// storeState is the part of the web app's store state the agent reports.
type storeState struct {
	Connected            bool                 `json:"connected"`
	FatalConnectionError *string              `json:"fatalConnectionError"`
	User                 *struct{ ID string } `json:"user"`
	Permissions          []string             `json:"permissions"`
	Rooms                []struct {
		ID           string         `json:"id"`
		Users        *string        `json:"users"`
		ScheduleData map[string]any `json:"schedule_data"`
	} `json:"rooms"`
	RoomViewers []string `json:"roomViewers"`
	ActiveRoom  *string  `json:"activeRoom"`
}

// users is the users field of room in the store (nil: absent).
func (s storeState) users(room string) *string {
	for _, r := range s.Rooms {
		if r.ID == room {
			return r.Users
		}
	}
	return nil
}

func (s storeState) schedule(room string) map[string]any {
	for _, r := range s.Rooms {
		if r.ID == room {
			return r.ScheduleData
		}
	}
	return nil
}

// client connects a web-app store as name with the login args (token,
// clientId, inviteToken) and returns its state once authenticated.
func (a *agent) client(name, url string, login map[string]any) storeState {
	a.t.Helper()
	args := map[string]any{"name": name, "url": url}
	for k, v := range login {
		args[k] = v
	}
	var s storeState
	a.do("client", args, &s)
	if !s.Connected {
		a.t.Fatalf("%s did not connect: %v", name, s.FatalConnectionError)
	}
	return s
}

func (a *agent) state(name string) storeState {
	a.t.Helper()
	var s storeState
	a.do("state", map[string]any{"name": name}, &s)
	return s
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
