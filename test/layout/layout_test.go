// Package layout checks that the code keeps the shape the README's layout
// table describes: every package of the module belongs to one layer, a
// package imports only packages of lower layers (or of its own row), the
// operator does not link the node, and the node's core does not link
// Kubernetes.
package layout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/roomring/roomring"

// row is a line of the layout: the packages under one of its paths
// ("node/cluster/..." is node/cluster and everything below it) and their
// layer. A package may import packages of a lower layer, and packages of
// its own row.
type row struct {
	paths []string
	layer int
}

// layers lists the module's packages from the top (what nothing else
// imports) down to the contracts at the bottom. The README's layout table
// says the same in words (TestREADMECoversPackages keeps them together).
var layers = []row{
	{[]string{"", "cmd"}, 12}, // the binary
	{[]string{"node/nodetest/...", "internal/testkit", "test/...", "loadgen/..."}, 11}, // test kit, tests, load generator
	{[]string{"node"}, 10},                                                              // composition root
	{[]string{"controllers/..."}, 9},                                                    // the operator
	{[]string{"node/server"}, 8},                                                        // HTTP listeners
	{[]string{"node/protocol/venueless", "node/protocol/socketio"}, 7},                  // wire formats
	{[]string{"node/admin", "node/kube/..."}, 7},                                        // operator-facing surfaces
	{[]string{"node/engine"}, 6},                                                        // one client's operations
	{[]string{"node/cluster/..."}, 6},                                                   // cluster plumbing
	{[]string{"node/owner/...", "node/room", "node/reaction", "node/edge/..."}, 5},      // owners and fan-out
	{[]string{"node/manifest"}, 4},                                                      // Room manifests ↔ catalog
	{[]string{"node/announce"}, 4},                                                      // catalog changes → world events
	{[]string{"node/catalog"}, 3},                                                       // room configuration
	{[]string{"node/session/...", "node/auth", "node/metrics", "node/demo"}, 2},         // connections, identities
	{[]string{"node/store/..."}, 2},                                                     // durable storage
	{[]string{"node/op", "node/wsframe", "node/protocol/payload", "node/ratelimit"}, 1}, // shared vocabulary, frames
	{[]string{"api/..."}, 0},                                                            // API types and contracts
}

// core is the node's request path: none of it may link Kubernetes.
var core = []string{
	"node/op", "node/auth", "node/catalog", "node/store", "node/room", "node/reaction",
	"node/owner/...", "node/edge/...", "node/engine", "node/announce", "node/ratelimit", "node/session/...", "node/wsframe",
	"node/protocol/venueless", "node/protocol/socketio", "node/protocol/payload", "node/cluster/...",
}

// kubernetes are the import paths the core must not link.
var kubernetes = []string{"k8s.io/", "sigs.k8s.io/controller-runtime", module + "/api/v1alpha1"}

// operatorMayNotLink are the node packages (and libraries) the operator
// must not link: it reaches the node through api/adminapi only.
var operatorMayNotLink = []string{
	"node/engine", "node/edge/...", "node/room", "node/reaction", "node/owner/...", "node/cluster/...",
	"node/session/...", "node/protocol/...", "node/server", "node/admin", "node/kube/...",
	"github.com/valyala/fasthttp", "github.com/hashicorp/memberlist",
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	d := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := d.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// local strips the module path; ok is false for packages of other modules.
func local(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rest, ok := strings.CutPrefix(path, module+"/")
	return rest, ok
}

// matches reports whether the module-relative or full import path p is
// one of patterns ("x/..." matches x and below).
func matches(p string, patterns []string) bool {
	for _, pat := range patterns {
		if base, ok := strings.CutSuffix(pat, "/..."); ok {
			if p == base || strings.HasPrefix(p, base+"/") {
				return true
			}
		} else if p == pat {
			return true
		}
	}
	return false
}

func rowOf(p string) (int, bool) {
	for i, r := range layers {
		if matches(p, r.paths) {
			return i, true
		}
	}
	return 0, false
}

// TestImportsPointDown: every package is in the layout, and imports only
// packages of lower layers or of its own row.
func TestImportsPointDown(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := local(p.ImportPath)
		fi, ok := rowOf(from)
		if !ok {
			t.Errorf("package %q is in no row of the layout (test/layout and the README's table)", from)
			continue
		}
		for _, imp := range p.Imports {
			to, ok := local(imp)
			if !ok {
				continue
			}
			ti, ok := rowOf(to)
			if !ok || ti == fi {
				continue // reported for the package itself; own row allowed
			}
			if layers[ti].layer >= layers[fi].layer {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports point down the layout", from, layers[fi].layer, to, layers[ti].layer)
			}
		}
	}
}

// TestCoreLinksNoKubernetes: the codecs, the engine, the owners and the
// cluster do not link Kubernetes; only the bridge (node/manifest,
// node/kube) and the operator do.
func TestCoreLinksNoKubernetes(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := local(p.ImportPath)
		if !matches(from, core) {
			continue
		}
		for _, d := range p.Deps {
			for _, k := range kubernetes {
				if strings.HasPrefix(d, k) {
					t.Errorf("%s links %s", from, d)
				}
			}
		}
	}
}

// TestOperatorDoesNotLinkTheNode: the operator reaches nodes through the
// admin API contract only.
func TestOperatorDoesNotLinkTheNode(t *testing.T) {
	for _, p := range listPackages(t) {
		from, _ := local(p.ImportPath)
		if !matches(from, []string{"controllers/..."}) {
			continue
		}
		for _, d := range p.Deps {
			rel, ok := local(d)
			if ok && matches(rel, operatorMayNotLink) || !ok && matches(d, operatorMayNotLink) {
				t.Errorf("%s links %s", from, d)
			}
		}
	}
}

// TestREADMECoversPackages: every package of the module is under a path
// of the README's layout table, and every path of the table exists.
func TestREADMECoversPackages(t *testing.T) {
	root := moduleRoot(t)
	f, err := os.Open(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var paths []string
	inLayout := false
	code := regexp.MustCompile("`([^`]+)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inLayout = line == "## Layout"
		case inLayout && strings.HasPrefix(line, "| `"):
			cell := strings.SplitN(line, "|", 3)[1]
			for _, m := range code.FindAllStringSubmatch(cell, -1) {
				paths = append(paths, m[1])
			}
		}
	}
	if len(paths) == 0 {
		t.Fatal("README.md has no layout table under ## Layout")
	}
	// A cell's paths may be relative to the first of the cell
	// ("node/cluster/membership/, ring/") — expand those.
	var dirs []string
	for _, p := range paths {
		p = strings.TrimSuffix(p, "/")
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			if strings.Contains(p, ".") || strings.Contains(p, " ") {
				continue // a file or a command, not a package path
			}
			t.Errorf("README layout names %s, which does not exist", p)
			continue
		}
		dirs = append(dirs, p)
	}
	for _, p := range listPackages(t) {
		rel, _ := local(p.ImportPath)
		if rel == "" {
			continue // main.go
		}
		if !slices.ContainsFunc(dirs, func(d string) bool { return rel == d || strings.HasPrefix(rel, d+"/") }) {
			t.Errorf("package %s is not in the README's layout table", rel)
		}
	}
}
