package chart

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func secretData(t *testing.T, r rendered, name string) map[string]string {
	t.Helper()
	s := r.must(t, "Secret", name)
	out := map[string]string{}
	data, _ := asMap(get(s, "data"))
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			t.Fatalf("Secret %s key %s is not base64: %v", name, k, err)
		}
		out[k] = string(b)
	}
	return out
}

// TestSecretGenerated: with no values the three keys are generated (random,
// so two renderings differ); given values are used as they are.
func TestSecretGenerated(t *testing.T) {
	a := secretData(t, render(t), fullname)
	b := secretData(t, render(t), fullname)
	for _, k := range []string{"jwt-secret", "cluster-key", "admin-token"} {
		if len(a[k]) != 48 {
			t.Errorf("generated %s has %d characters, want 48", k, len(a[k]))
		}
		if a[k] == b[k] {
			t.Errorf("%s is the same in two renderings: not generated", k)
		}
	}
	if len(a) != 3 {
		t.Errorf("Secret keys = %v", a)
	}
	given := secretData(t, render(t, "-f", filepath.Join(chartDir, "ci", "cluster-postgres-values.yaml")), fullname)
	want := map[string]string{
		"jwt-secret":  "this-is-a-test-jwt-secret-0123456789",
		"cluster-key": "a-test-cluster-passphrase",
		"admin-token": "this-is-a-test-admin-token-0123456789",
	}
	if !reflect.DeepEqual(given, want) {
		t.Errorf("Secret with given values = %v, want %v", given, want)
	}
	// Upgrades keep what the install generated: the template reads the
	// existing Secret (lookup) before generating. helm template has no
	// cluster; the e2e test checks this against a real API server.
	// The Secret's data comes from roomring.secretData (_helpers.tpl).
	src, err := os.ReadFile(filepath.Join(chartDir, "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(`lookup "v1" "Secret" .Release.Namespace (include "roomring.secretName" .)`)) {
		t.Error("roomring.secretData no longer looks up the existing Secret")
	}
}

func TestExistingSecret(t *testing.T) {
	r := render(t, "-f", filepath.Join(chartDir, "ci", "existing-secret-values.yaml"))
	if s := r.all("Secret"); len(s) != 0 {
		t.Errorf("Secrets rendered with existingSecret: %v", s[0].name())
	}
	node := container(t, r.must(t, "StatefulSet", fullname), "node")
	wantSecretEnv(t, node, "ROOMRING_JWT_SECRET", "roomring-keys", "jwt")
	wantSecretEnv(t, node, "ROOMRING_CLUSTER_KEY", "roomring-keys", "cluster")
	wantSecretEnv(t, node, "ROOMRING_ADMIN_TOKEN", "roomring-keys", "admin")
	wantSecretEnv(t, container(t, r.must(t, "Deployment", fullname+"-operator"), "operator"), "ROOMRING_ADMIN_TOKEN", "roomring-keys", "admin")
}
