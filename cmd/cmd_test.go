package cmd

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpIsNotAnError(t *testing.T) {
	for _, args := range [][]string{
		{"node", "--help"}, {"node", "-h"}, {"operator", "--help"}, {"token", "-help"},
		{"loadgen", "--help"}, {"loadgen", "owner", "--help"}, {"--help"},
	} {
		if err := Main(args); err != nil {
			t.Errorf("roomring %s: %v", strings.Join(args, " "), err)
		}
	}
	if err := Main([]string{"node", "--no-such-flag"}); err == nil {
		t.Error("an unknown flag is not an error")
	}
}

// The built binary: --help exits 0 and prints the flags.
func TestHelpExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "roomring")
	build := exec.Command("go", "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sub := range []string{"node", "operator", "token"} {
		out, err := exec.Command(bin, sub, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage of "+sub) || strings.Contains(string(out), "help requested") {
			t.Errorf("roomring %s --help: %v\n%s", sub, err, out)
		}
	}
	out, err := exec.Command(bin, "operator", "--no-such-flag").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("roomring operator --no-such-flag: %v, want exit status 1\n%s", err, out)
	}
}
