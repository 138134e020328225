package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/adminapi"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// A node under Kubernetes (--kube-namespace) writes the websocket's admin
// actions to the Room resources, so kubectl shows what clients changed; the
// operator then pushes the Rooms to the pool as it does for kubectl's
// changes.

func startKubeNode(t *testing.T, ns, name string) *nodetest.Node {
	t.Helper()
	return startNode(t, name, func(c *node.Config) {
		c.Kube.Namespace, c.Kube.Kubeconfig = ns, env.Kubeconfig
		// Trait admin administers, as the chart's default grants say (a
		// node's own default makes nobody an administrator).
		c.WorldTraitGrants = `{"viewer": [], "admin": ["admin"]}`
	})
}

func adminClient(t *testing.T, n *nodetest.Node) *nodetest.Client {
	t.Helper()
	c := nodetest.Dial(t, n.URL())
	c.Auth(map[string]any{"token": nodetest.Token(t, "admin-1", []string{"admin"}, map[string]any{"display_name": "Admin"})})
	return c
}

func mustRoom(t *testing.T, ns, name string) *v1alpha1.Room {
	t.Helper()
	r, err := getRoom(ns, name)
	if err != nil {
		t.Fatalf("get Room %s: %v", name, err)
	}
	return r
}

func scheduleOf(t *testing.T, r *v1alpha1.Room) map[string]any {
	t.Helper()
	var m map[string]any
	if r.Spec.ScheduleData != nil {
		if err := json.Unmarshal(r.Spec.ScheduleData.Raw, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// Long: every websocket admin action in turn, each checked in the Room
// resources before the next.
func TestWebsocketAdminWritesRooms(t *testing.T) {
	ns := env.Namespace(t)
	n := startKubeNode(t, ns, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	main := newRoom(ns, "main-stage", "room_1", "Main Stage")
	main.Spec.SortingPriority = 1
	create(t, main)
	lounge := newRoom(ns, "lounge", "", "Lounge")
	lounge.Spec.SortingPriority = 2
	create(t, lounge)
	waitStatus(t, ns, "main-stage", "ready", ready("node-a"))
	waitStatus(t, ns, "lounge", "ready", ready("node-a"))

	adm := adminClient(t, n)
	g := nodetest.Guest(t, n, "watcher")
	g.Call("room.enter", map[string]any{"room": "room_1"})

	// room.config.patch: the reply is what the Room now holds.
	reply := nodetest.Decode[struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		PretalxID int    `json:"pretalx_id"`
	}](t, adm.Call("room.config.patch", map[string]any{"room": "room_1", "name": "Main Stage (live)", "pretalx_id": 7}))
	if reply.ID != "room_1" || reply.Name != "Main Stage (live)" || reply.PretalxID != 7 {
		t.Fatalf("patch reply = %+v", reply)
	}
	r := mustRoom(t, ns, "main-stage")
	if r.Spec.DisplayName != "Main Stage (live)" || r.Spec.PretalxID != 7 || r.Spec.ID != "room_1" || r.Spec.SortingPriority != 1 {
		t.Fatalf("Room spec after patch = %+v", r.Spec)
	}
	waitWorld(t, g, "room_1", "renamed", func(rc *nodetest.RoomConfig) bool { return rc != nil && rc.Name == "Main Stage (live)" })
	waitStatus(t, ns, "main-stage", "generation 2 ready", func(r *v1alpha1.Room) error {
		if r.Generation != 2 {
			return fmt.Errorf("generation %d", r.Generation)
		}
		return ready("node-a")(r)
	})

	// Refusals leave the Room as it was: the catalog's, and the API
	// server's (a module type longer than the Room API allows).
	if code := adm.CallErr("room.config.patch", map[string]any{"room": "room_1", "name": "LOUNGE"}); code != "room.invalid.name_taken" {
		t.Fatalf("patch to a taken name: %s", code)
	}
	if code := adm.CallErr("room.config.patch", map[string]any{"room": "room_1", "allowed_reactions": []string{"💩"}}); code != "config.invalid" {
		t.Fatalf("patch with a bad reaction: %s", code)
	}
	f := adm.Reply(adm.Send("room.config.patch", map[string]any{"room": "room_1",
		"module_config": []map[string]any{{"type": strings.Repeat("m", 65)}}}))
	var e struct{ Code, Message string }
	f.Decode(t, 2, &e)
	if f.Kind() != "error" || e.Code != "config.invalid" || !strings.Contains(e.Message, "spec.modules[0].type") {
		t.Fatalf("patch the API server refuses: %s", f)
	}
	if r := mustRoom(t, ns, "main-stage"); r.Generation != 2 || len(r.Spec.Modules) != 0 {
		t.Fatalf("refused patches changed the Room: generation %d, %+v", r.Generation, r.Spec)
	}

	// room.schedule: the Room holds the schedule, the room's members get it.
	adm.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "Q&A", "session": "qa"}})
	if s := scheduleOf(t, mustRoom(t, ns, "main-stage")); s["title"] != "Q&A" || s["session"] != "qa" {
		t.Fatalf("Room scheduleData = %v", s)
	}
	g.Wait(wait, "room.schedule", nodetest.IsEvent("room.schedule", "room_1"))

	// room.create: a new Room, last in order, served like any other.
	created := nodetest.Decode[struct{ Room string }](t, adm.Call("room.create", map[string]any{"name": "Hall C", "description": "Third",
		"modules": []map[string]any{{"type": "chat.native", "config": map[string]any{"volatile": true}}}}))
	hall := mustRoom(t, ns, created.Room)
	if hall.Spec.DisplayName != "Hall C" || hall.Spec.Description != "Third" || hall.Spec.SortingPriority != 3 ||
		len(hall.Spec.Modules) != 1 || hall.Spec.Modules[0].Type != "chat.native" || hall.RoomID() != created.Room {
		t.Fatalf("created Room = %s %+v", hall.Name, hall.Spec)
	}
	g.Wait(wait, "room.create", nodetest.IsEvent("room.create", ""))
	waitStatus(t, ns, created.Room, "ready", ready("node-a"))
	if code := adm.CallErr("room.create", map[string]any{"name": "hall c"}); code != "room.invalid.name_taken" {
		t.Fatalf("create with a taken name: %s", code)
	}

	// room.config.reorder: the Rooms get the new priorities.
	order := nodetest.Decode[[]struct{ ID string }](t, adm.Call("room.config.reorder", []string{"lounge", created.Room}))
	var ids []string
	for _, o := range order {
		ids = append(ids, o.ID)
	}
	if !slices.Equal(ids, []string{"lounge", created.Room, "room_1"}) {
		t.Fatalf("reorder reply = %v", ids)
	}
	for name, prio := range map[string]int32{"lounge": 1, created.Room: 2, "main-stage": 3} {
		if r := mustRoom(t, ns, name); r.Spec.SortingPriority != prio {
			t.Errorf("Room %s sortingPriority = %d, want %d", name, r.Spec.SortingPriority, prio)
		}
	}

	// room.delete: the Room goes (the operator's finalizer finds the room
	// closed already), everyone is told once.
	adm.Call("room.delete", map[string]any{"room": "lounge"})
	g.Wait(wait, "room.delete lounge", isRoomDelete("lounge"))
	waitGone(t, ns, "lounge")
	if _, err := nodetest.AdminClient(t, token, n.Addr()).Room(context.Background(), "lounge"); !adminapi.IsNotFound(err) {
		t.Fatalf("pool still serves lounge: %v", err)
	}
	if g.Has(isRoomDelete("lounge")) {
		t.Fatal("room.delete of lounge sent twice")
	}
	if code := adm.CallErr("room.delete", map[string]any{"room": "lounge"}); code != "room.unknown" {
		t.Fatalf("delete again: %s", code)
	}
}

func TestWebsocketDeleteRemovesEveryClaim(t *testing.T) {
	// Deleting a room deletes every Room that claims its id, or the next
	// one would bring the room back.
	ns := env.Namespace(t)
	n := startKubeNode(t, ns, "node-a")
	startOperator(t, ns, []string{n.Addr()})
	create(t, newRoom(ns, "a", "dup", "A"))
	create(t, newRoom(ns, "b", "dup", "B"))
	waitStatus(t, ns, "a", "ready", ready("node-a"))
	waitStatus(t, ns, "b", "conflict", func(r *v1alpha1.Room) error {
		if r.Status.Phase != v1alpha1.PhaseConflict {
			return fmt.Errorf("phase %s", r.Status.Phase)
		}
		return nil
	})
	adm := adminClient(t, n)
	adm.Call("room.delete", map[string]any{"room": "dup"})
	waitGone(t, ns, "a")
	waitGone(t, ns, "b")
	testkit.EventuallyNil(t, wait, "dup closed", func() error {
		if _, err := nodetest.AdminClient(t, token, n.Addr()).Room(context.Background(), "dup"); !adminapi.IsNotFound(err) {
			return fmt.Errorf("pool answers %v", err)
		}
		return nil
	})
}
