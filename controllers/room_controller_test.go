package controllers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/api/adminapi"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
)

func decodeOK(b json.RawMessage, v any) bool { return json.Unmarshal(b, v) == nil }

// waitWorld waits for a world.updated in which room id satisfies ok.
func waitWorld(t *testing.T, c *nodetest.Client, id, what string, ok func(*nodetest.RoomConfig) bool) {
	t.Helper()
	c.Wait(wait, "world.updated: "+what, func(f nodetest.Frame) bool {
		if f.Kind() != "world.updated" || len(f) != 2 {
			return false
		}
		var w nodetest.WorldConfig
		return json.Unmarshal(f[1], &w) == nil && ok(w.Room(id))
	})
}

func isRoomDelete(id string) func(nodetest.Frame) bool {
	return func(f nodetest.Frame) bool {
		var d struct{ ID string }
		return f.Kind() == "room.delete" && len(f) == 2 && json.Unmarshal(f[1], &d) == nil && d.ID == id
	}
}

func TestRoomLifecycle(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	g := nodetest.Guest(t, n, "watcher")
	ctx := context.Background()

	room := newRoom(ns, "hall-b", "", "Hall B")
	room.Spec.ScheduleData = kubetest.Raw(t, map[string]any{"title": "Opening"})
	create(t, room)

	// The room appears on the pool: everyone is told.
	push := g.Wait(wait, "room.create", nodetest.IsEvent("room.create", ""))
	if rc := nodetest.Decode[nodetest.RoomConfig](t, push[1]); rc.ID != "hall-b" || rc.Name != "Hall B" || rc.ScheduleData["title"] != "Opening" {
		t.Fatalf("room.create = %+v, want hall-b Hall B", rc)
	}
	r := waitStatus(t, ns, "hall-b", "ready", ready("node-a"))
	if condition(r, v1alpha1.ConditionDuplicateID) != "False/Unique" || r.Status.Viewers != 0 || r.Status.ObservedGeneration != 1 {
		t.Fatalf("status = %+v", r.Status)
	}
	if !controllerutil.ContainsFinalizer(r, v1alpha1.Finalizer) {
		t.Fatalf("finalizers = %v, want %s", r.Finalizers, v1alpha1.Finalizer)
	}
	waitEvent(t, ns, "hall-b", "Normal/Pushed")
	waitEvent(t, ns, "hall-b", "Normal/Serving")

	// Viewers follow within the status interval.
	g.Call("room.enter", map[string]any{"room": "hall-b"})
	g2 := nodetest.Guest(t, n, "second")
	g2.Call("room.enter", map[string]any{"room": "hall-b"})
	waitStatus(t, ns, "hall-b", "2 viewers", func(r *v1alpha1.Room) error {
		if r.Status.Viewers != 2 {
			return fmt.Errorf("viewers %d", r.Status.Viewers)
		}
		return nil
	})
	g2.Call("room.leave", map[string]any{"room": "hall-b"})
	waitStatus(t, ns, "hall-b", "1 viewer", func(r *v1alpha1.Room) error {
		if r.Status.Viewers != 1 {
			return fmt.Errorf("viewers %d", r.Status.Viewers)
		}
		return nil
	})

	// A spec change reaches the clients: a new world.config, and the new
	// schedule to the room's members.
	update(t, ns, "hall-b", func(r *v1alpha1.Room) {
		r.Spec.DisplayName = "Hall B (main)"
		r.Spec.ScheduleData = kubetest.Raw(t, map[string]any{"title": "Keynote", "session": "k-1"})
	})
	waitWorld(t, g, "hall-b", "renamed", func(rc *nodetest.RoomConfig) bool { return rc != nil && rc.Name == "Hall B (main)" })
	var sched struct {
		Room         string         `json:"room"`
		ScheduleData map[string]any `json:"schedule_data"`
	}
	if err := json.Unmarshal(g.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "hall-b"))[1], &sched); err != nil || sched.ScheduleData["title"] != "Keynote" {
		t.Fatalf("room.schedule = %+v, %v", sched, err)
	}
	r = waitStatus(t, ns, "hall-b", "generation 2 ready", ready("node-a"))
	if r.Generation != 2 {
		t.Fatalf("generation %d, want 2", r.Generation)
	}

	// Deleting the Room closes the room: members and everyone else get
	// room.delete, and the Room goes once the finalizer ran.
	other := nodetest.Guest(t, n, "outsider")
	if err := env.Client.Delete(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*nodetest.Client{g, g2, other} {
		c.Wait(wait, "room.delete hall-b", isRoomDelete("hall-b"))
	}
	waitGone(t, ns, "hall-b")
	if _, err := nodetest.AdminClient(t, token, n.Addr()).Room(ctx, "hall-b"); !adminapi.IsNotFound(err) {
		t.Fatalf("pool still serves the deleted room: %v", err)
	}
	if code := g.CallErr("room.enter", map[string]any{"room": "hall-b"}); code != "room.unknown" {
		t.Fatalf("enter deleted room: %s", code)
	}
}

func TestInvalidRoomsRejected(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mut  func(*v1alpha1.Room)
		want []string
	}{
		{"bad-reaction", func(r *v1alpha1.Room) { r.Spec.Reactions = []string{"👏", "💩"} },
			[]string{"spec.reactions[1]", "Unsupported value", "💩"}},
		{"empty-name", func(r *v1alpha1.Room) { r.Spec.DisplayName = "" },
			[]string{"spec.displayName", "at least 1 chars long"}},
		{"long-name", func(r *v1alpha1.Room) { r.Spec.DisplayName = strings.Repeat("x", 201) },
			[]string{"spec.displayName", "Too long"}},
		{"bad-id", func(r *v1alpha1.Room) { r.Spec.ID = "room 1!" },
			[]string{"spec.id", "should match"}},
		{"negative-pretalx", func(r *v1alpha1.Room) { r.Spec.PretalxID = -1 },
			[]string{"spec.pretalxId", "greater than or equal to 0"}},
	} {
		r := newRoom(ns, tc.name, "", "Valid")
		tc.mut(r)
		err := env.Client.Create(ctx, r)
		if !apierrors.IsInvalid(err) {
			t.Errorf("%s: create = %v, want Invalid", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q lacks %q", tc.name, err, w)
			}
		}
	}

	// spec.id is immutable: it cannot change, be added or be removed.
	create(t, newRoom(ns, "fixed", "fixed_1", "Fixed"))
	create(t, newRoom(ns, "named", "", "Named"))
	for _, tc := range []struct {
		name, id string
	}{{"fixed", "fixed_2"}, {"fixed", ""}, {"named", "named_1"}} {
		r, err := getRoom(ns, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		r.Spec.ID = tc.id
		err = env.Client.Update(ctx, r)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.id is immutable") {
			t.Errorf("change id of %s to %q: %v, want spec.id is immutable", tc.name, tc.id, err)
		}
	}
}

func TestInvalidForThePool(t *testing.T) {
	// The API server checks schedule data's keys and types and the title's
	// length, but not a string session's length (an int-or-string schema
	// takes no bounds), which the node bounds at 64 characters: the pool
	// rejects the spec and the status says why.
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	r := newRoom(ns, "sched", "", "Schedule")
	r.Spec.ScheduleData = kubetest.Raw(t, map[string]any{"session": strings.Repeat("s", 65)})
	create(t, r)
	waitStatus(t, ns, "sched", "invalid", func(r *v1alpha1.Room) error {
		if r.Status.Phase != v1alpha1.PhaseInvalid || condition(r, v1alpha1.ConditionReady) != "False/InvalidSpec" ||
			condition(r, v1alpha1.ConditionPlaced) != "False/NotServed" {
			return fmt.Errorf("status %+v", r.Status)
		}
		if msg := condMessage(r, v1alpha1.ConditionReady); !strings.Contains(msg, "session must be at most 64 characters") {
			return fmt.Errorf("Ready message %q does not say why", msg)
		}
		return nil
	})
	waitEvent(t, ns, "sched", "Warning/InvalidSpec")
	// Fixing the spec makes it ready.
	update(t, ns, "sched", func(r *v1alpha1.Room) { r.Spec.ScheduleData = kubetest.Raw(t, map[string]any{"title": "Ada"}) })
	waitStatus(t, ns, "sched", "ready", ready("node-a"))
}

func TestDuplicateID(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	pool := nodetest.AdminClient(t, token, n.Addr())
	ctx := context.Background()
	g := nodetest.Guest(t, n, "watcher")

	create(t, newRoom(ns, "first", "shared", "First"))
	waitStatus(t, ns, "first", "ready", ready("node-a"))
	// "first" claimed the id first: it is older, or as old (creation times
	// have a one-second resolution) and first by name.
	create(t, newRoom(ns, "second", "shared", "Second"))
	create(t, newRoom(ns, "shared", "", "Third")) // its name is the id

	for _, name := range []string{"second", "shared"} {
		r := waitStatus(t, ns, name, "conflict", func(r *v1alpha1.Room) error {
			if r.Status.Phase != v1alpha1.PhaseConflict || condition(r, v1alpha1.ConditionDuplicateID) != "True/IDClaimed" ||
				condition(r, v1alpha1.ConditionReady) != "False/IDServedByOther" || r.Status.OwnerNode != "" {
				return fmt.Errorf("status %+v", r.Status)
			}
			return nil
		})
		if msg := condMessage(r, v1alpha1.ConditionReady); !strings.Contains(msg, ns+"/first") {
			t.Errorf("%s: Ready message %q does not name the served Room", name, msg)
		}
		waitEvent(t, ns, name, "Warning/DuplicateID")
	}
	waitStatus(t, ns, "first", "ready and flagged", func(r *v1alpha1.Room) error {
		if err := ready("node-a")(r); err != nil {
			return err
		}
		if condition(r, v1alpha1.ConditionDuplicateID) != "True/IDClaimed" {
			return fmt.Errorf("DuplicateID %s", condition(r, v1alpha1.ConditionDuplicateID))
		}
		return nil
	})
	if st, err := pool.Room(ctx, "shared"); err != nil || served(t, st).Name != "First" {
		t.Fatalf("pool serves %s, %v; want First", st.Config, err)
	}

	// When the served Room goes, the next claimant takes the room over
	// without closing it.
	first, _ := getRoom(ns, "first")
	if err := env.Client.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ns, "first")
	waitStatus(t, ns, "second", "took over", ready("node-a"))
	waitWorld(t, g, "shared", "Second served", func(rc *nodetest.RoomConfig) bool { return rc != nil && rc.Name == "Second" })
	if g.Has(isRoomDelete("shared")) {
		t.Fatal("the room was closed while another Room claimed it")
	}
	waitStatus(t, ns, "shared", "still conflicting", func(r *v1alpha1.Room) error {
		if r.Status.Phase != v1alpha1.PhaseConflict || !strings.Contains(condMessage(r, v1alpha1.ConditionReady), ns+"/second") {
			return fmt.Errorf("status %+v", r.Status)
		}
		return nil
	})
}

func condMessage(r *v1alpha1.Room, typ string) string {
	for _, c := range r.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}

func TestPoolRestartRequeues(t *testing.T) {
	// The status interval is long here, so only the pool watcher can notice
	// the node's restart in time.
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	addr := n.Addr()
	startOperator(t, ns, []string{addr}, func(c *controllers.Config) { c.StatusInterval = time.Hour })
	create(t, newRoom(ns, "lobby", "", "Lobby"))
	create(t, newRoom(ns, "stage", "stage_1", "Stage"))
	waitStatus(t, ns, "lobby", "ready", ready("node-a"))
	waitStatus(t, ns, "stage", "ready", ready("node-a"))

	// The node stops: the Rooms report the pool unavailable.
	n.Stop(t)
	for _, name := range []string{"lobby", "stage"} {
		waitStatus(t, ns, name, "pool unavailable", func(r *v1alpha1.Room) error {
			if condition(r, v1alpha1.ConditionReady) != "Unknown/PoolUnavailable" || r.Status.Phase != v1alpha1.PhasePending {
				return fmt.Errorf("status %+v", r.Status)
			}
			return nil
		})
		waitEvent(t, ns, name, "Warning/PoolUnavailable")
	}

	// Another node starts empty at the same address: the operator pushes
	// the rooms to it.
	n2 := startNode(t, "node-b", func(c *node.Config) { c.Listen = addr })
	for _, name := range []string{"lobby", "stage"} {
		waitStatus(t, ns, name, "ready on node-b", ready("node-b"))
	}
	g := nodetest.Guest(t, n2, "late")
	ids, err := nodetest.AdminClient(t, token, addr).Rooms(context.Background())
	if err != nil || !slices.Equal(ids, []string{"lobby", "stage_1"}) && !slices.Equal(ids, []string{"stage_1", "lobby"}) {
		t.Fatalf("pool rooms = %v, %v", ids, err)
	}
	g.Call("room.enter", map[string]any{"room": "stage_1"})
}

func TestPruneUnclaimedRooms(t *testing.T) {
	// A node that serves rooms no Room claims (here: the sample rooms of
	// its --rooms file) loses them; claimed ones stay.
	ns := env.Namespace(t)
	n := startNode(t, "node-a", func(c *node.Config) {
		c.RoomsFile = nodetest.Config(t, "").RoomsFile
	})
	g := nodetest.Guest(t, n, "watcher")
	r := newRoom(ns, "main-stage", "room_1", "Main Stage")
	create(t, r)
	startOperator(t, ns, []string{n.Addr()}, func(c *controllers.Config) { c.PruneInterval = 200 * time.Millisecond })
	for _, id := range []string{"workshop-a", "lounge", "backstage"} {
		g.Wait(wait, "room.delete "+id, isRoomDelete(id))
	}
	waitStatus(t, ns, "main-stage", "ready", ready("node-a"))
	testkit.EventuallyNil(t, wait, "only room_1 left", func() error {
		ids, err := nodetest.AdminClient(t, token, n.Addr()).Rooms(context.Background())
		if err != nil {
			return err
		}
		if !slices.Equal(ids, []string{"room_1"}) {
			return errors.New(strings.Join(ids, ","))
		}
		return nil
	})
}

// served is the configuration a room status shows the pool serving.
func served(t *testing.T, st adminapi.RoomStatus) *catalog.Room {
	t.Helper()
	r, err := catalog.DecodeRoom(st.Config)
	if err != nil {
		t.Fatalf("room status %s: %v", st.ID, err)
	}
	return r
}
