package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const expo = `apiVersion: roomring.dev/v1alpha1
kind: World
metadata:
  name: expo
spec:
  displayName: Expo
  jwt:
    secrets:
      - {name: expo-jwt, key: current}
      - {name: expo-jwt, key: previous}
    issuers: [platform]
  traitGrants:
    viewer: []
    admin: ["admin|organizer"]
  allowGuests: true
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: expo-hall
spec:
  world: expo
  displayName: Expo Hall
`

func TestParseWorldsAndRooms(t *testing.T) {
	dir := t.TempDir()
	cur, prev := bytes.Repeat([]byte("c"), 32), bytes.Repeat([]byte("p"), 40)
	if err := os.MkdirAll(filepath.Join(dir, "expo-jwt"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A mounted Secret's file, with the trailing newline editors add.
	_ = os.WriteFile(filepath.Join(dir, "expo-jwt", "current"), append(cur, '\n'), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "expo-jwt", "previous"), prev, 0o600)

	f, err := Parse([]byte(expo), DirSecrets(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Worlds) != 1 || len(f.Rooms) != 1 {
		t.Fatalf("parsed %d worlds, %d rooms; want 1 and 1", len(f.Worlds), len(f.Rooms))
	}
	w := f.Worlds[0]
	if w.ID != "expo" || w.Title != "Expo" || !w.AllowGuests || len(w.Secrets) != 2 ||
		!bytes.Equal(w.Secrets[0], cur) || !bytes.Equal(w.Secrets[1], prev) || w.Issuers[0] != "platform" {
		t.Fatalf("world = %+v", w)
	}
	if g := w.TraitGrants["admin"]; len(g) != 1 || len(g[0]) != 2 || g[0][1] != "organizer" {
		t.Fatalf("admin grant = %v, want one any-of rule admin|organizer", g)
	}
	if f.Rooms[0].World != "expo" {
		t.Fatalf("room's world = %q, want expo", f.Rooms[0].World)
	}

	for name, tc := range map[string]struct {
		dir, want string
	}{
		"no secrets dir":   {"", "no --secrets-dir"},
		"missing secret":   {t.TempDir(), "no such file"},
		"secret too short": {shortSecrets(t), "at least 32 bytes"},
	} {
		if _, err := Parse([]byte(expo), DirSecrets(tc.dir)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", name, err, tc.want)
		}
	}
	if _, err := Parse([]byte(strings.Replace(expo, "name: expo-jwt, key: current", "name: ../x, key: current", 1)), DirSecrets(dir)); err == nil || !strings.Contains(err.Error(), "invalid name") {
		t.Errorf("secret name with a path: err %v, want invalid name", err)
	}
}

func shortSecrets(t *testing.T) string {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "expo-jwt"), 0o700)
	_ = os.WriteFile(filepath.Join(dir, "expo-jwt", "current"), []byte("short"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "expo-jwt", "previous"), bytes.Repeat([]byte("p"), 40), 0o600)
	return dir
}
