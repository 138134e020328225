package chart

import (
	"strings"
	"testing"
)

func container(t *testing.T, w obj, name string) any {
	t.Helper()
	for _, c := range list(w, "spec", "template", "spec", "containers") {
		if str(c, "name") == name {
			return c
		}
	}
	t.Fatalf("%s has no container %s", w.name(), name)
	return nil
}

func args(c any) []string {
	var out []string
	for _, a := range list(c, "args") {
		out = append(out, a.(string))
	}
	return out
}

// flag returns the value of --name=value in args, and whether it is there.
func flag(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			return "", true
		}
	}
	return "", false
}

func wantFlag(t *testing.T, args []string, name, want string) {
	t.Helper()
	got, ok := flag(args, name)
	if !ok {
		t.Errorf("flag --%s missing from %v", name, args)
	} else if got != want {
		t.Errorf("--%s=%q, want %q", name, got, want)
	}
}

// env returns the container's env entry name.
func env(c any, name string) any {
	for _, e := range list(c, "env") {
		if str(e, "name") == name {
			return e
		}
	}
	return nil
}

func wantSecretEnv(t *testing.T, c any, name, secret, key string) {
	t.Helper()
	e := env(c, name)
	if e == nil {
		t.Errorf("env %s missing", name)
		return
	}
	if got := str(e, "valueFrom", "secretKeyRef", "name"); got != secret {
		t.Errorf("env %s from Secret %q, want %q", name, got, secret)
	}
	if got := str(e, "valueFrom", "secretKeyRef", "key"); got != key {
		t.Errorf("env %s from key %q, want %q", name, got, key)
	}
}

// expandEnv replaces $(VAR) as the kubelet does in container args.
func expandEnv(args []string, vars map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}
