package node_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// authWorld is world.config of an authenticated frame, as these tests read it.
type authWorld struct {
	World struct {
		World struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"world"`
		Permissions []string              `json:"permissions"`
		Rooms       []nodetest.RoomConfig `json:"rooms"`
	} `json:"world.config"`
}

func decodeAuth(t *testing.T, raw json.RawMessage) authWorld {
	t.Helper()
	return nodetest.Decode[authWorld](t, raw)
}

func roomIDs(w authWorld) []string {
	var ids []string
	for _, r := range w.World.Rooms {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

const worldsFile = `apiVersion: roomring.dev/v1alpha1
kind: World
metadata: {name: expo}
spec:
  displayName: Expo
  jwt:
    secrets: [{name: expo-jwt, key: current}]
  traitGrants: {viewer: [], admin: [organizer]}
---
apiVersion: roomring.dev/v1alpha1
kind: World
metadata: {name: default}
spec:
  displayName: The Default World
  jwt:
    secrets: [{name: default-jwt, key: key}]
  traitGrants: {viewer: []}
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata: {name: expo-hall}
spec: {world: expo, displayName: Expo Hall}
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata: {name: lobby}
spec: {displayName: Lobby}
`

func writeSecret(t *testing.T, dir, name, key string, val []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name, key), val, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStandaloneWorldsFile: a --rooms file with World manifests serves
// each world with its own keys, grants and rooms; the World named like the
// built-in world replaces the flags' configuration; the file's worlds
// come back from the store after a restart without the file.
func TestStandaloneWorldsFile(t *testing.T) {
	dir, secrets := t.TempDir(), t.TempDir()
	expoKey, defKey := bytes.Repeat([]byte("x"), 32), bytes.Repeat([]byte("d"), 32)
	writeSecret(t, secrets, "expo-jwt", "current", expoKey)
	writeSecret(t, secrets, "default-jwt", "key", defKey)
	file := filepath.Join(dir, "rooms.yaml")
	if err := os.WriteFile(file, []byte(worldsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := nodetest.Config(t, "")
	cfg.Dev, cfg.RoomsFile, cfg.SecretsDir = false, file, secrets
	n := nodetest.Start(t, cfg)
	c := nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "expo"))
	expo := decodeAuth(t, c.Auth(map[string]any{"token": nodetest.TokenFor(t, expoKey, "olga", "organizer")}))
	if expo.World.World.Title != "Expo" || !slices.Equal(roomIDs(expo), []string{"expo-hall"}) || !slices.Contains(expo.World.Permissions, "world:rooms.create") {
		t.Fatalf("expo's world.config = %+v, want Expo with expo-hall, organizer an admin", expo.World)
	}
	// The built-in world: the file's World replaced its flags (title, key,
	// grants); the --jwt-secret no longer verifies, and trait admin is no
	// administrator there.
	if code := nodetest.Dial(t, n.URL()).AuthErr(map[string]any{"token": nodetest.Token(t, "bob", nil, nil)}); code != "auth.invalid_token" {
		t.Fatalf("the flags' secret on the replaced built-in world = %s, want auth.invalid_token", code)
	}
	if code := nodetest.Dial(t, n.URL()).AuthErr(map[string]any{"token": nodetest.TokenFor(t, expoKey, "bob")}); code != "auth.invalid_token" {
		t.Fatalf("expo's token on the built-in world = %s, want auth.invalid_token", code)
	}
	def := decodeAuth(t, nodetest.Dial(t, n.URL()).Auth(map[string]any{"token": nodetest.TokenFor(t, defKey, "dora", "admin")}))
	if def.World.World.Title != "The Default World" || !slices.Equal(roomIDs(def), []string{"lobby"}) || slices.Contains(def.World.Permissions, "world:rooms.create") {
		t.Fatalf("built-in world.config = %+v, want its File title, only lobby, no admin", def.World)
	}

	// Restarted without the file, the node serves the same worlds.
	n.Stop(t)
	cfg.RoomsFile, cfg.SecretsDir = "", ""
	n = nodetest.Start(t, cfg)
	c = nodetest.Dial(t, nodetest.WorldURL(n.Addr(), "expo"))
	if got := roomIDs(decodeAuth(t, c.Auth(map[string]any{"token": nodetest.TokenFor(t, expoKey, "olga")}))); !slices.Equal(got, []string{"expo-hall"}) {
		t.Fatalf("expo after restart: rooms %v", got)
	}
}

// TestBuiltinWorldTraitGrants: without --dev and --world-trait-grants no
// trait makes a user an administrator; --world-trait-grants grants roles
// by traits; --dev keeps its dev grants.
func TestBuiltinWorldTraitGrants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mut    func(*node.Config)
		admin  bool
		viewer bool
	}{
		{"production default", func(c *node.Config) { c.Dev = false }, false, true},
		{"flag", func(c *node.Config) { c.Dev = false; c.WorldTraitGrants = `{"viewer": [], "admin": ["admin"]}` }, true, true},
		{"flag without viewer", func(c *node.Config) { c.Dev = false; c.WorldTraitGrants = `{"admin": [["admin", "staff"]]}` }, true, true},
		{"dev", func(c *node.Config) {}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := nodetest.StartWith(t, tc.mut)
			c := nodetest.Dial(t, n.URL())
			a := decodeAuth(t, c.Auth(map[string]any{"token": nodetest.Token(t, "u", []string{"admin"}, nil)}))
			if got := slices.Contains(a.World.Permissions, "world:rooms.create"); got != tc.admin {
				t.Fatalf("trait admin holds world:rooms.create: %v, want %v (%v)", got, tc.admin, a.World.Permissions)
			}
			if got := len(a.World.Rooms) > 0; got != tc.viewer {
				t.Fatalf("trait admin sees rooms: %v, want %v", got, tc.viewer)
			}
		})
	}
}
