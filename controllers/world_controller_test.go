package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// poolNode is a node of a two-node pool on host (in this process), joined
// through join.
func poolNode(t *testing.T, host, name string, join ...string) *nodetest.Node {
	t.Helper()
	return startNode(t, name, func(cfg *node.Config) {
		cfg.Listen = host + ":0"
		cfg.Cluster.Key = "operator-world-test-passphrase"
		cfg.Cluster.Membership.BindAddr = host + ":0"
		cfg.Cluster.Membership.Join = join
		cfg.AllowNodeLocalStore = true
		cfg.Cluster.Membership.ProbeInterval = 300 * time.Millisecond
		cfg.Cluster.Membership.ProbeTimeout = 200 * time.Millisecond
		cfg.Cluster.Membership.GossipInterval = 50 * time.Millisecond
		cfg.Cluster.Membership.JoinRetryInterval = 200 * time.Millisecond
		cfg.Cluster.Peer.ListenAddr = host + ":0"
		cfg.Cluster.Peer.ReconnectMin = 20 * time.Millisecond
		cfg.Cluster.Peer.ReconnectMax = 200 * time.Millisecond
	})
}

// Long: one pool, two worlds, followed from apply to deletion.
func TestTwoWorldsOnOnePool(t *testing.T) {
	ns := env.Namespace(t)
	a := poolNode(t, "127.0.0.40", "node-a")
	b := poolNode(t, "127.0.0.41", "node-b", a.Cluster().GossipAddr())
	for _, n := range []*nodetest.Node{a, b} {
		testkit.Eventually(t, wait, n.Cluster().Name()+" sees both", func() bool {
			return slices.Equal(n.Cluster().Placement().Members(), []string{"node-a", "node-b"})
		})
	}
	startOperator(t, ns, []string{a.Addr(), b.Addr()})
	ctx := context.Background()

	// Two worlds with their own keys and grants: in alpha everyone views
	// the rooms, in beta only attendees do.
	create(t, newSecret(ns, "alpha-jwt", map[string]string{"hs256": key("alpha")}))
	create(t, newSecret(ns, "beta-jwt", map[string]string{"hs256": key("beta")}))
	create(t, newWorld(ns, "alpha", "Alpha Con", "alpha-jwt", "hs256"))
	beta := newWorld(ns, "beta", "Beta Summit", "beta-jwt", "hs256")
	beta.Spec.TraitGrants = map[string]v1alpha1.TraitEntries{"viewer": {"attendee"}}
	create(t, beta)
	create(t, worldRoom(ns, "hall-a", "alpha"))
	create(t, worldRoom(ns, "hall-b", "beta"))
	for _, w := range []string{"alpha", "beta"} {
		r := waitWorldStatus(t, ns, w, "ready with its room", worldCounts(1, 0))
		if !controllerutil.ContainsFinalizer(r, v1alpha1.Finalizer) {
			t.Fatalf("World %s finalizers %v", w, r.Finalizers)
		}
	}
	for _, r := range []string{"hall-a", "hall-b"} {
		waitStatus(t, ns, r, "ready", func(r *v1alpha1.Room) error {
			if r.Status.Phase != v1alpha1.PhaseReady || r.Status.OwnerNode == "" {
				return fmt.Errorf("status %+v", r.Status)
			}
			return nil
		})
	}

	// A world's clients see its rooms only; its connections are summed
	// over the pool's members.
	alice, cfg := attend(t, a, "alpha", key("alpha"), "alice")
	if got := roomIDs(cfg); !slices.Equal(got, []string{"hall-a"}) {
		t.Fatalf("alpha's world.config rooms %v, want [hall-a]", got)
	}
	alice.Call("room.enter", map[string]any{"room": "hall-a"})
	carol, _ := attend(t, b, "alpha", key("alpha"), "carol")
	bob, cfg := attend(t, b, "beta", key("beta"), "bob", "attendee")
	if got := roomIDs(cfg); !slices.Equal(got, []string{"hall-b"}) {
		t.Fatalf("beta's world.config rooms %v, want [hall-b]", got)
	}
	bob.Call("room.enter", map[string]any{"room": "hall-b"})
	if code := bob.CallErr("room.enter", map[string]any{"room": "hall-a"}); code == "" {
		t.Fatal("a client of beta entered alpha's room")
	}
	// beta's grants: without the trait, no view.
	dave, _ := attend(t, a, "beta", key("beta"), "dave")
	if code := dave.CallErr("room.enter", map[string]any{"room": "hall-b"}); code != "protocol.denied" {
		t.Fatalf("beta without trait attendee: room.enter = %s, want protocol.denied", code)
	}
	waitWorldStatus(t, ns, "alpha", "2 connections over both nodes", worldCounts(1, 2))
	waitWorldStatus(t, ns, "beta", "2 connections", worldCounts(1, 2))

	// A token of one world is refused on the other.
	refused(t, a, "beta", key("alpha"), "mallory")
	refused(t, b, "alpha", key("beta"), "mallory")

	// Deleting a World disconnects its clients on every node and closes
	// its rooms; its finalizer goes; the other world is untouched.
	w, err := getWorld(ns, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*nodetest.Client{alice, carol} {
		if err := c.Closed(wait); err == nil {
			t.Fatal("closed without an error")
		}
	}
	testkit.EventuallyNil(t, wait, "World alpha gone", func() error {
		_, err := getWorld(ns, "alpha")
		if err == nil {
			return errors.New("still there")
		}
		return client.IgnoreNotFound(err)
	})
	for _, n := range []*nodetest.Node{a, b} {
		testkit.Eventually(t, wait, n.Cluster().Name()+" refuses alpha", func() bool {
			return nodetest.DialStatus(t, worldURL(n, "alpha")) == http.StatusNotFound
		})
	}
	waitStatus(t, ns, "hall-a", "waits for its world", roomWaits("WorldNotFound", `World "alpha" does not exist in namespace `+ns))
	pool := nodetest.AdminClient(t, token, a.Addr(), b.Addr())
	testkit.EventuallyNil(t, wait, "alpha's room closed on the pool", func() error {
		ids, err := pool.Rooms(ctx)
		if slices.Sort(ids); err != nil || !slices.Equal(ids, []string{"hall-b"}) {
			return fmt.Errorf("the pool's rooms %v, %v; want [hall-b]", ids, err)
		}
		return nil
	})
	bob.Call("room.leave", map[string]any{"room": "hall-b"})
	bob.Call("room.enter", map[string]any{"room": "hall-b"})
	waitWorldStatus(t, ns, "beta", "still serving", worldCounts(1, 2))
	if ev := worldEvents(t, ns, "beta"); !slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "Normal/Serving") }) {
		t.Errorf("beta's events %q, want Normal/Serving", ev)
	}
}

func TestRoomWaitsForItsWorld(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})

	create(t, worldRoom(ns, "talk", "expo"))
	waitStatus(t, ns, "talk", "no world", roomWaits("WorldNotFound", `World "expo" does not exist in namespace `+ns))

	// The World waits for its Secret; the Room waits for the World.
	create(t, newWorld(ns, "expo", "Expo", "expo-jwt", "current"))
	waitWorldStatus(t, ns, "expo", "no Secret", worldIs(v1alpha1.PhasePending, "SecretMissing", `Secret "expo-jwt" does not exist`))
	waitStatus(t, ns, "talk", "world not ready", roomWaits("WorldNotReady", `World "expo" is not ready (Pending: SecretMissing)`))
	create(t, newSecret(ns, "expo-jwt", map[string]string{"other": key("x")}))
	waitWorldStatus(t, ns, "expo", "no key", worldIs(v1alpha1.PhasePending, "SecretMissing", `Secret "expo-jwt" has no key "current"`))

	// The key arrives: the World is pushed, then its Room.
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "expo-jwt"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["current"] = []byte(key("expo"))
	if err := env.Client.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	waitWorldStatus(t, ns, "expo", "ready", worldCounts(1, 0))
	waitStatus(t, ns, "talk", "ready", ready("node-a"))
	_, cfg := attend(t, n, "expo", key("expo"), "visitor")
	if got := roomIDs(cfg); !slices.Equal(got, []string{"talk"}) {
		t.Fatalf("expo's rooms %v, want [talk]", got)
	}
}

// TestWorldSecretRotation: a second key is added next to the first, then
// the first is changed in its Secret alone: tokens signed with a listed
// key work, and the change of the Secret reaches the pool without a change
// of the World.
func TestWorldSecretRotation(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	// No periodic reconcile within the test: the World is pushed again
	// because its Secret changed (the operator watches it), not because a
	// status refresh came round.
	startOperator(t, ns, []string{n.Addr()}, func(c *controllers.Config) { c.StatusInterval = time.Hour })
	ctx := context.Background()

	create(t, newSecret(ns, "jwt", map[string]string{"k1": key("old")}))
	create(t, newWorld(ns, "fair", "Fair", "jwt", "k1"))
	waitWorldStatus(t, ns, "fair", "ready", worldCounts(0, 0))
	old := signed(t, key("old"), "early")
	if code := authCode(t, n, "fair", old); code != "" {
		t.Fatalf("token of k1: %s", code)
	}

	// A second key, listed after the first: both work.
	var s corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["k2"] = []byte(key("new"))
	if err := env.Client.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyNil(t, wait, "k2 listed", func() error {
		w, err := getWorld(ns, "fair")
		if err != nil {
			return err
		}
		w.Spec.JWT.Secrets = append(w.Spec.JWT.Secrets[:1], v1alpha1.SecretKeyRef{Name: "jwt", Key: "k2"})
		return env.Client.Update(ctx, w)
	})
	waitWorldStatus(t, ns, "fair", "generation 2 ready", worldIs(v1alpha1.PhaseReady, "Serving", "generation 2"))
	testkit.EventuallyNil(t, wait, "a token of k2 accepted", func() error {
		if code := authCode(t, n, "fair", signed(t, key("new"), "late")); code != "" {
			return errors.New(code)
		}
		return nil
	})
	if code := authCode(t, n, "fair", old); code != "" {
		t.Fatalf("token of k1 after k2 was added: %s", code)
	}

	// k1 changes in the Secret only: the operator pushes the new value.
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "jwt"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Data["k1"] = []byte(key("newer"))
	if err := env.Client.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	testkit.EventuallyNil(t, wait, "the old k1 refused", func() error {
		if code := authCode(t, n, "fair", old); code != "auth.invalid_token" {
			return fmt.Errorf("old token: %q", code)
		}
		return nil
	})
	t.Logf("a key changed in its Secret reached the node within %v", time.Since(changed).Round(time.Millisecond))
	for _, k := range []string{"newer", "new"} {
		if code := authCode(t, n, "fair", signed(t, key(k), "user-"+k)); code != "" {
			t.Fatalf("token of %s: %s", k, code)
		}
	}
}

// TestWorldNameConflict: two namespaces apply a World of the same name;
// the older is served, the other is Conflict (and its Rooms wait) until
// the older goes, then it takes the world over — without the old World's
// rooms.
func TestWorldNameConflict(t *testing.T) {
	// The first World goes to the namespace that sorts first: it precedes
	// even when both are created within the same second (the timestamps'
	// resolution), where the namespace decides.
	first, second := env.Namespace(t), env.Namespace(t)
	if second < first {
		first, second = second, first
	}
	n := startNode(t, "node-a")
	cfg := operatorConfig(first)
	cfg.Controllers.Namespaces = []string{first, second}
	runOperator(t, env.Config, cfg, n.Addr())
	ctx := context.Background()

	for _, ns := range []string{first, second} {
		create(t, newSecret(ns, "jwt", map[string]string{"k": key(ns)}))
	}
	create(t, newWorld(first, "expo", "Expo One", "jwt", "k"))
	create(t, worldRoom(first, "first-hall", "expo"))
	waitStatus(t, first, "first-hall", "ready", ready("node-a"))
	create(t, newWorld(second, "expo", "Expo Two", "jwt", "k"))
	waitWorldStatus(t, second, "expo", "conflict", worldIs(v1alpha1.PhaseConflict, "IDServedByOther", "served by World "+first+"/expo"))
	waitWorldStatus(t, first, "expo", "served", worldCounts(1, 0))
	create(t, worldRoom(second, "side", "expo"))
	waitStatus(t, second, "side", "world in conflict", roomWaits("WorldNotReady", "(Conflict: IDServedByOther)"))
	if code := authCode(t, n, "expo", signed(t, key(first), "u1")); code != "" {
		t.Fatalf("token of the served World's key: %s", code)
	}
	if code := authCode(t, n, "expo", signed(t, key(second), "u1")); code != "auth.invalid_token" {
		t.Fatalf("token of the conflicting World's key: %q, want auth.invalid_token", code)
	}

	// The served World goes: the other takes the world over, with its keys
	// and its rooms only.
	w, _ := getWorld(first, "expo")
	if err := env.Client.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	waitWorldStatus(t, second, "expo", "took over", worldCounts(1, 0))
	waitStatus(t, second, "side", "ready", ready("node-a"))
	waitStatus(t, first, "first-hall", "its World gone", roomWaits("WorldNotFound", `World "expo" does not exist in namespace `+first))
	testkit.EventuallyNil(t, wait, "the new World's key accepted", func() error {
		if code := authCode(t, n, "expo", signed(t, key(second), "u2")); code != "" {
			return errors.New(code)
		}
		return nil
	})
	_, wc := attend(t, n, "expo", key(second), "u3")
	if got := roomIDs(wc); !slices.Equal(got, []string{"side"}) {
		t.Fatalf("rooms after the take-over %v, want [side]", got)
	}
}

// TestPruneUnnamedWorlds: a world the pool serves that no World names (put
// there behind the operator's back, as by a World deleted while no
// operator ran) is closed, its client disconnected; a World's world and
// the built-in world stay.
func TestPruneUnnamedWorlds(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	pool := nodetest.AdminClient(t, token, n.Addr())
	ctx := context.Background()
	if _, err := pool.PutWorld(ctx, "ghost", nodetest.WorldSpec("Ghost", map[string]v1alpha1.TraitEntries{"viewer": {}}), [][]byte{[]byte(key("ghost"))}); err != nil {
		t.Fatal(err)
	}
	ghost, _ := attend(t, n, "ghost", key("ghost"), "lost")
	create(t, newSecret(ns, "jwt", map[string]string{"k": key("kept")}))
	create(t, newWorld(ns, "kept", "Kept", "jwt", "k"))
	startOperator(t, ns, []string{n.Addr()}, func(c *controllers.Config) { c.PruneInterval = 200 * time.Millisecond })

	waitWorldStatus(t, ns, "kept", "ready", worldCounts(0, 0))
	if err := ghost.Closed(wait); err == nil {
		t.Fatal("the pruned world's client closed without an error")
	}
	testkit.EventuallyNil(t, wait, "the pool's worlds", func() error {
		ids, err := pool.Worlds(ctx)
		if slices.Sort(ids); err != nil || !slices.Equal(ids, []string{"default", "kept"}) {
			return fmt.Errorf("worlds %v, %v; want [default kept]", ids, err)
		}
		return nil
	})
}

// TestWorldNamedDefault: a World named like the pool's built-in world
// replaces the nodes' flags' configuration (its key instead of
// --jwt-secret) and keeps the Rooms without spec.world; deleting it brings
// the flags' configuration back and closes none of those rooms.
func TestWorldNamedDefault(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	ctx := context.Background()

	create(t, newRoom(ns, "lobby", "", "Lobby"))
	waitStatus(t, ns, "lobby", "ready", ready("node-a"))
	create(t, newSecret(ns, "jwt", map[string]string{"k": key("event")}))
	create(t, newWorld(ns, v1alpha1.DefaultWorld, "The Event", "jwt", "k"))
	waitWorldStatus(t, ns, v1alpha1.DefaultWorld, "ready with the lobby", worldCounts(1, 0))
	testkit.EventuallyNil(t, wait, "the flags' key refused", func() error {
		if code := authCode(t, n, v1alpha1.DefaultWorld, signed(t, nodetest.Secret, "flagged")); code != "auth.invalid_token" {
			return fmt.Errorf("flag key: %q", code)
		}
		return nil
	})
	_, cfg := attend(t, n, v1alpha1.DefaultWorld, key("event"), "guest-of-event")
	if got := roomIDs(cfg); !slices.Equal(got, []string{"lobby"}) {
		t.Fatalf("rooms %v, want [lobby]", got)
	}

	w, err := getWorld(ns, v1alpha1.DefaultWorld)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyNil(t, wait, "the flags' key accepted again", func() error {
		if code := authCode(t, n, v1alpha1.DefaultWorld, signed(t, nodetest.Secret, "flagged")); code != "" {
			return errors.New(code)
		}
		return nil
	})
	_, cfg = attend(t, n, v1alpha1.DefaultWorld, nodetest.Secret, "back")
	if got := roomIDs(cfg); !slices.Equal(got, []string{"lobby"}) {
		t.Fatalf("rooms after the World went %v, want [lobby]", got)
	}
	waitStatus(t, ns, "lobby", "still ready", ready("node-a"))
}
