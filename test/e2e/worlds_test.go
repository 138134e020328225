package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// sampleWorldKey is the JWT key of config/samples/worlds/expo.yaml.
const sampleWorldKey = "expo-sample-jwt-secret-change-me-0123456789"

// fairWorld is a second World next to the sample's, with a key of its own.
const fairWorld = `apiVersion: v1
kind: Secret
metadata:
  name: fair-jwt
stringData:
  current: fair-e2e-jwt-secret-0123456789abcdef
---
apiVersion: roomring.dev/v1alpha1
kind: World
metadata:
  name: fair
spec:
  displayName: Fair
  jwt:
    secrets: [{name: fair-jwt, key: current}]
  traitGrants:
    viewer: []
---
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: fair-hall
spec:
  world: fair
  displayName: Fair Hall
`

// twoWorlds: kubectl apply of the sample World and of a second one with
// another key, under the chart's RBAC (the operator reads their Secrets):
// both Ready with their Room; on every node each world's token opens its
// own world, listing its own room only, and is refused on the other, and
// the default world's token is refused on both. kubectl delete closes
// them: their clients are disconnected.
func (s *wholeInstall) twoWorlds() {
	t, c, nodes := s.t, s.c, s.nodes
	fair := filepath.Join(t.TempDir(), "fair.yaml")
	if err := os.WriteFile(fair, []byte(fairWorld), 0o600); err != nil {
		t.Fatal(err)
	}
	c.kubectl("-n", ns, "apply", "-f", "config/samples/worlds/")
	c.kubectl("-n", ns, "apply", "-f", fair)
	testkit.EventuallyNil(t, 60*time.Second, "both Worlds ready with their Room", func() error {
		out := c.kubectl("-n", ns, "get", "worlds", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}/{.status.rooms} {end}`)
		if got := strings.TrimSpace(out); got != "expo=Ready/1 fair=Ready/1" {
			return fmt.Errorf("worlds %q", got)
		}
		return nil
	})
	keys := map[string]string{"expo": sampleWorldKey, "fair": "fair-e2e-jwt-secret-0123456789abcdef"}
	rooms := map[string]string{"expo": "expo-hall", "fair": "fair-hall"}
	var open []*nodetest.Client
	for _, n := range nodes {
		for world, k := range keys {
			url := "ws://" + n.http + "/ws/world/" + world + "/"
			cl := nodetest.Dial(t, url)
			var authed struct {
				World struct{ Rooms []struct{ ID string } } `json:"world.config"`
			}
			if err := json.Unmarshal(cl.Auth(map[string]any{"token": nodetest.TokenFor(t, []byte(k), "visitor")}), &authed); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range authed.World.Rooms {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, []string{rooms[world]}) {
				t.Errorf("world %s on %s lists rooms %v, want [%s]", world, n.pod, ids, rooms[world])
			}
			open = append(open, cl)
			for other, ok := range keys {
				if other == world {
					continue
				}
				if code := nodetest.Dial(t, url).AuthErr(map[string]any{"token": nodetest.TokenFor(t, []byte(ok), "mallory")}); code != "auth.invalid_token" {
					t.Errorf("a token of %s on world %s at %s: %s, want auth.invalid_token", other, world, n.pod, code)
				}
			}
			if code := nodetest.Dial(t, url).AuthErr(map[string]any{"token": s.mint("mallory")}); code != "auth.invalid_token" {
				t.Errorf("a token of the default world on %s at %s: %s, want auth.invalid_token", world, n.pod, code)
			}
		}
	}
	c.kubectl("-n", ns, "delete", "-f", fair, "-f", "config/samples/worlds/", "--wait=true", "--timeout=60s")
	for _, cl := range open {
		if err := cl.Closed(20 * time.Second); err == nil {
			t.Error("a client of a deleted World closed without an error")
		}
	}
}
