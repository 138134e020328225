package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's "Run on Kubernetes" section is what the whole-install test
// runs: it reads the commands of the section's ```sh blocks and runs them
// verbatim with bash (continuation lines included), so the README cannot
// drift from what is tested. Commands that cannot run here are listed in
// notRunnable with the reason; every other command must be run by the test
// (readme.checkAllRun).

const readmeSection = "## Run on Kubernetes"

// notRunnable maps the prefix of a README command to why the test cannot
// run it.
var notRunnable = map[string]string{
	"kubectl -n roomring rollout status": "pods never run: the API server has no kubelet",
	"ADDR=":                              "no load balancer gives the client Service an address",
}

// readme holds the commands of the section and which of them ran.
type readme struct {
	t    *testing.T
	cmds []string
	ran  map[int]bool
	// dir is the working directory of the commands: a stand-in for the
	// repository root whose bin/roomring is the binary the test built (the
	// checkout's bin/ may be rebuilt by anyone while the test runs).
	dir string
	env []string
}

// readReadme parses the section's commands.
func readReadme(t *testing.T, root string) *readme {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+readmeSection+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", readmeSection)
	}
	text = text[i+len(readmeSection)+2:]
	if j := strings.Index(text, "\n## "); j >= 0 {
		text = text[:j]
	}
	r := &readme{t: t, ran: map[int]bool{}}
	inBlock := false
	var cur strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		switch {
		case !inBlock && strings.TrimSpace(line) == "```sh":
			inBlock = true
		case inBlock && strings.TrimSpace(line) == "```":
			inBlock = false
			if cur.Len() > 0 {
				t.Fatalf("README: a ```sh block ends in a continuation line: %q", cur.String())
			}
		case inBlock && strings.TrimSpace(line) != "":
			cur.WriteString(line)
			if strings.HasSuffix(line, "\\") {
				cur.WriteString("\n")
				continue
			}
			r.cmds = append(r.cmds, cur.String())
			cur.Reset()
		}
	}
	if len(r.cmds) == 0 {
		t.Fatalf("README: no ```sh commands in %q", readmeSection)
	}
	for p := range notRunnable {
		if r.index(p) < 0 {
			t.Errorf("README: no command starts with %q (notRunnable is stale)", p)
		}
	}
	return r
}

func (r *readme) index(prefix string) int {
	found := -1
	for i, c := range r.cmds {
		if strings.HasPrefix(c, prefix) {
			if found >= 0 && r.cmds[found] != c {
				r.t.Fatalf("README: more than one command starts with %q:\n%s\n%s", prefix, r.cmds[found], c)
			}
			found = i
		}
	}
	return found
}

// cmd returns the README command starting with prefix (failing the test
// when there is none) and records that the test runs it.
func (r *readme) cmd(prefix string) string {
	r.t.Helper()
	i := r.index(prefix)
	if i < 0 {
		r.t.Fatalf("README: no command in %q starts with %q; the test and the README disagree", readmeSection, prefix)
	}
	for j, c := range r.cmds {
		if c == r.cmds[i] {
			r.ran[j] = true
		}
	}
	return r.cmds[i]
}

// replace returns cmd with old replaced by new, failing the test when cmd
// does not contain old (the README changed under the test's substitution).
func (r *readme) replace(cmd string, old *regexp.Regexp, new string) string {
	r.t.Helper()
	if len(old.FindAllStringIndex(cmd, -1)) != 1 {
		r.t.Fatalf("README command %q: want exactly one match of %v to substitute", cmd, old)
	}
	return old.ReplaceAllLiteralString(cmd, new)
}

// sh runs a script of README commands with bash and returns its stdout.
func (r *readme) sh(script string) string {
	r.t.Helper()
	out, err := r.try(script)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *readme) try(script string) (string, error) {
	r.t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = r.dir, r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("README command\n%s\nfailed: %v\n%s%s", script, err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// checkAllRun fails the test for every README command it did not run and
// does not know to be unrunnable here.
func (r *readme) checkAllRun() {
	r.t.Helper()
	for i, c := range r.cmds {
		if r.ran[i] {
			continue
		}
		skipped := false
		for p := range notRunnable {
			skipped = skipped || strings.HasPrefix(c, p)
		}
		if !skipped {
			r.t.Errorf("README command not run by the e2e test (run it, or list it in notRunnable with the reason):\n%s", c)
		}
	}
}
