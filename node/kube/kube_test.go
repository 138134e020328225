package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Namespace: "events", Timeout: DefaultTimeout}, ""},
		{Config{Namespace: "Events", Timeout: DefaultTimeout}, "--kube-namespace"},
		{Config{Namespace: "events"}, "--kube-timeout"},
	} {
		err := tc.cfg.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestRESTConfigFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	const kc = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: "secret-token"}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: events}
current-context: x
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "https://127.0.0.1:6443" || c.BearerToken != "secret-token" {
		t.Fatalf("config = %s %q", c.Host, c.BearerToken)
	}
	if _, err := RESTConfig(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing kubeconfig file is accepted")
	}
}
