package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// testClock tunes failure detection for the test: the mechanisms of
// production on a shorter clock (as in the controllers' node tests).
var testClock = append([]string{"--rebuild-window=500ms"}, nodeproc.ClockFlags...)

// node is a running node pod.
type node struct {
	*nodeproc.Proc
	pod, name, http, admin, gossip string // pod, member name, HTTP listener, admin API listener, gossip address
}

func startNode(t *testing.T, pod, bin string, args []string, env map[string]string) *node {
	t.Helper()
	p := startProc(t, pod, bin, args, env)
	n := &node{Proc: p, pod: pod}
	listening := p.Record("node listening", 30*time.Second)
	n.http, _ = listening["addr"].(string)
	n.admin, _ = listening["admin_addr"].(string)
	member := p.Record("cluster member", 30*time.Second)
	n.name, _ = member["name"].(string)
	n.gossip, _ = member["gossip"].(string)
	if n.http == "" || n.admin == "" || n.admin == n.http || n.name == "" || n.gossip == "" {
		t.Fatalf("%s: listening on %q, admin API on %q, member %v", pod, n.http, n.admin, member)
	}
	return n
}

// adminGet GETs a node's admin API and decodes the answer into v.
func adminGet(addr, path, token string, v any) error {
	code, body, err := httpGet("http://"+addr+path, token)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	return json.Unmarshal(body, v)
}

// roomRow is a row of `kubectl get rooms`.
type roomRow struct {
	Name, DisplayName, Owner, Ready string
	Viewers                         int // -1 when empty
}

// parseRooms reads the table of `kubectl get rooms` by its header's column
// positions (DISPLAY NAME holds a space).
func parseRooms(t *testing.T, out string) map[string]roomRow {
	t.Helper()
	rows := map[string]roomRow{}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return rows
	}
	cols := []string{"NAME", "ROOM ID", "DISPLAY NAME", "READY", "PHASE", "REASON", "OWNER", "VIEWERS", "AGE"}
	starts := make([]int, len(cols))
	for i, col := range cols {
		if starts[i] = strings.Index(lines[0], col); starts[i] < 0 || i > 0 && starts[i] <= starts[i-1] {
			t.Fatalf("kubectl get rooms: header %q lacks %s in order %v", lines[0], col, cols)
		}
	}
	for _, line := range lines[1:] {
		field := func(i int) string {
			from, to := min(starts[i], len(line)), len(line)
			if i+1 < len(starts) {
				to = min(starts[i+1], len(line))
			}
			if v := strings.TrimSpace(line[from:to]); v != "<none>" {
				return v
			}
			return ""
		}
		row := roomRow{Name: field(0), DisplayName: field(2), Ready: field(3), Owner: field(6), Viewers: -1}
		if v, err := strconv.Atoi(field(7)); err == nil {
			row.Viewers = v
		}
		rows[row.Name] = row
	}
	return rows
}

// waitRooms runs the README's `kubectl get rooms` until ok accepts its
// table.
func waitRooms(t *testing.T, r *readme, getRooms, what string, ok func(map[string]roomRow) error) {
	t.Helper()
	var last string
	testkit.EventuallyNil(t, 30*time.Second, what, func() error {
		out, err := r.try(getRooms)
		if err != nil {
			return err
		}
		last = out
		if err := ok(parseRooms(t, out)); err != nil {
			return fmt.Errorf("%v\n%s", err, last)
		}
		return nil
	})
}

// buildRoomring builds the roomring binary into the README commands'
// working directory (bin/roomring) and returns it.
func buildRoomring(t *testing.T, c *cluster, r *readme) string {
	t.Helper()
	bin := filepath.Join(r.dir, "bin", "roomring")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// readmeWorkDir makes the README commands' working directory, a stand-in
// for the repository root: charts/ and config/ are the repository's, bin/
// holds what the test builds, and helm (bin/helm of the repository) is on
// the PATH.
func readmeWorkDir(t *testing.T, c *cluster, r *readme) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"charts", "config"} {
		if err := os.Symlink(filepath.Join(c.root, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "path")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(c.helm, filepath.Join(path, "helm")); err != nil {
		t.Fatal(err)
	}
	r.dir = dir
	r.env = append(slices.Clone(c.env), "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"))
}
