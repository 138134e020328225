package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// connectClients connects clients on different nodes, with tokens minted as
// the README says.
func (s *wholeInstall) connectClients() {
	t, r, nodes := s.t, s.r, s.nodes
	s.tokenScript = r.cmd("SECRET=") + "\n" + r.cmd("bin/roomring token")
	users := []string{"alice", "bob", "carol"}
	vl := make([]*nodetest.Client, len(nodes)) // venueless, one per node
	for i, n := range nodes {
		vl[i] = nodetest.Dial(t, "ws://"+n.http+"/ws/world/default/")
		var authed struct {
			World struct {
				Rooms []struct{ ID string }
			} `json:"world.config"`
		}
		if err := json.Unmarshal(vl[i].Auth(map[string]any{"token": s.mint(users[i])}), &authed); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, room := range authed.World.Rooms {
			ids = append(ids, room.ID)
		}
		if slices.Sort(ids); !slices.Equal(ids, sampleIDs) {
			t.Errorf("world.config on %s lists rooms %v, want %v", n.pod, ids, sampleIDs)
		}
	}
	agent := sioagent.Start(t)
	sio4 := connectSio(t, agent, "valu4", 4, nodes[1].http, s.mint("valu-4")) // socket.io-client 4.x on node 1
	sio2 := connectSio(t, agent, "valu2", 2, nodes[2].http, s.mint("valu-2")) // socket.io-client 2.x on node 2
	onNode := map[string]int{"alice": 0, "bob": 1, "carol": 2, "valu-4": 1, "valu-2": 2}
	s.vl, s.sio4, s.sio2, s.onNode = vl, sio4, sio2, onNode
}

// mint runs the README's token commands for uid.
func (s *wholeInstall) mint(uid string) string {
	s.t.Helper()
	return strings.TrimSpace(s.r.sh(s.r.replace(s.tokenScript, regexp.MustCompile(`--uid alice\b`), "--uid "+uid)))
}

// enterRooms: every client enters main-stage (room_1) and the lounge.
func (s *wholeInstall) enterRooms() {
	t, r, getRooms, vl, sio4, sio2 := s.t, s.r, s.getRooms, s.vl, s.sio4, s.sio2
	for _, room := range []string{"room_1", "lounge"} {
		for _, v := range vl {
			v.Call("room.enter", map[string]any{"room": room})
		}
		sio4.call("room:join", map[string]any{"room": room})
		sio2.call("room:join", map[string]any{"room": room})
	}
	waitRooms(t, r, getRooms, "5 viewers in main-stage and lounge", func(rows map[string]roomRow) error {
		for _, name := range []string{"main-stage", "lounge"} {
			if v := rows[name].Viewers; v != 5 {
				return fmt.Errorf("%s: %d viewers", name, v)
			}
		}
		return nil
	})
}

// roomReactions: room reactions from three nodes, counted by the owner into
// one room.reaction that reaches every node. Reactions are counted per
// one-second window: three sent at once may straddle a window boundary (then
// two frames add up to 3), so each emoji is one try.
func (s *wholeInstall) roomReactions() {
	t, nodes, vl := s.t, s.nodes, s.vl
	aggregated := false
	for _, emoji := range []string{"👏", "❤️", "👍", "🤣", "😮"} {
		ids := make([]int, len(vl))
		for i, v := range vl {
			ids[i] = v.Send("room.react", map[string]any{"room": "room_1", "reaction": emoji})
		}
		firsts := make([]int, len(vl))
		for i, v := range vl {
			if f := v.Reply(ids[i]); f.Kind() != "success" {
				t.Fatalf("room.react on %s: %s", nodes[i].pod, f)
			}
			for sum := 0; sum < len(vl); {
				f := v.Wait(5*time.Second, "room.reaction "+emoji+" on "+nodes[i].pod, func(f nodetest.Frame) bool {
					var d struct{ Reactions map[string]int }
					return nodetest.IsEvent("room.reaction", "room_1")(f) && json.Unmarshal(f[1], &d) == nil && d.Reactions[emoji] > 0
				})
				var d struct{ Reactions map[string]int }
				f.Decode(t, 1, &d)
				if sum == 0 {
					firsts[i] = d.Reactions[emoji]
				}
				sum += d.Reactions[emoji]
				if sum > len(vl) {
					t.Fatalf("%s counted %d times on %s, from %d reactions", emoji, sum, nodes[i].pod, len(vl))
				}
			}
		}
		if slices.Equal(firsts, []int{3, 3, 3}) {
			aggregated = true
			break
		}
		t.Logf("%s: first room.reaction counts %v (the reactions straddled a window); trying another emoji", emoji, firsts)
	}
	if !aggregated {
		t.Fatal("reactions from three nodes were never counted in one room.reaction")
	}
}

// resourceReactions: resource reactions across nodes and dialects: Valu
// (Socket.IO 4.x, node 1) → venueless (node 0) and Socket.IO 2.x (node 2);
// venueless (node 2) → Socket.IO 4.x (node 1). The owner writes them through
// to PostgreSQL.
func (s *wholeInstall) resourceReactions() {
	nodes, vl, sio4, sio2 := s.nodes, s.vl, s.sio4, s.sio2
	sio4.call("resource:setReaction", map[string]any{"resource": "talk-1", "comment": "", "room": "lounge", "reaction": "👍"})
	vl[0].Wait(10*time.Second, "valu-4's resource reaction on "+nodes[0].pod, func(f nodetest.Frame) bool {
		var d struct {
			Room, Resource, Reaction string
			User                     struct{ ID string }
		}
		return f.Kind() == "resource.reaction.updated" && len(f) == 2 && json.Unmarshal(f[1], &d) == nil &&
			d.Room == "lounge" && d.Resource == "talk-1" && d.Reaction == "👍" && d.User.ID == "valu-4"
	})
	fromUser := func(uid, reaction string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			var ev struct {
				Data struct {
					Room, Resource string
					Reaction       struct {
						Reaction string
						FromUser struct{ ID string } `json:"fromUser"`
					}
				}
			}
			return json.Unmarshal(raw, &ev) == nil && ev.Data.Room == "lounge" && ev.Data.Resource == "talk-1" &&
				ev.Data.Reaction.Reaction == reaction && ev.Data.Reaction.FromUser.ID == uid
		}
	}
	sio2.EventWhere("resource:reactionUpdated", "from valu-4", fromUser("valu-4", "👍"))
	vl[2].Call("resource.reaction.set", map[string]any{"room": "lounge", "resource": "talk-1", "reaction": "🎉"})
	sio4.EventWhere("resource:reactionUpdated", "from carol", fromUser("carol", "🎉"))
	s.checkReactions(sio2.call("resource:getReactions", map[string]any{"resourceId": "talk-1"}), nodes[2].pod)
}

// checkReactions: the reactions to talk-1 read on where are valu-4's and
// carol's.
func (s *wholeInstall) checkReactions(got json.RawMessage, where string) {
	s.t.Helper()
	var d struct {
		Reactions [][]string
		Total     int
	}
	if err := json.Unmarshal(got, &d); err != nil || d.Total != 2 || len(d.Reactions) != 2 {
		s.t.Fatalf("reactions to talk-1 read on %s: %s (%v), want valu-4's and carol's", where, got, err)
	}
}

// deleteRoom: kubectl delete room: the operator's finalizer closes the room,
// and its members on every node hear room.delete.
func (s *wholeInstall) deleteRoom() {
	t, r, nodes, getRooms, vl := s.t, s.r, s.nodes, s.getRooms, s.vl
	r.sh(r.cmd("kubectl -n roomring delete room main-stage"))
	for i, v := range vl {
		v.Wait(10*time.Second, "room.delete of room_1 on "+nodes[i].pod, func(f nodetest.Frame) bool {
			var d struct{ ID string }
			return f.Kind() == "room.delete" && len(f) == 2 && json.Unmarshal(f[1], &d) == nil && d.ID == "room_1"
		})
		if code := v.CallErr("room.react", map[string]any{"room": "room_1", "reaction": "👏"}); code != "room.unknown" {
			t.Errorf("room.react in the deleted room on %s: %s, want room.unknown", nodes[i].pod, code)
		}
	}
	if rows := parseRooms(t, r.sh(getRooms)); len(rows) != 3 || rows["main-stage"].Name != "" {
		t.Errorf("kubectl get rooms after the delete: %v", rows)
	}
}

// createRoom: a websocket admin action writes a Room (the node's
// --kube-namespace, with the node service account's RBAC); the operator
// serves it and the other nodes' clients hear of the new room.
func (s *wholeInstall) createRoom() {
	t, r, nodes, getRooms, names, tokenScript, vl := s.t, s.r, s.nodes, s.getRooms, s.names, s.tokenScript, s.vl
	admin := nodetest.Dial(t, "ws://"+nodes[2].http+"/ws/world/default/")
	admin.Auth(map[string]any{"token": strings.TrimSpace(r.sh(r.replace(tokenScript, regexp.MustCompile(`--uid alice\b`), "--uid admin-1 --traits admin")))})
	var created struct{ Room string }
	if err := json.Unmarshal(admin.Call("room.create", map[string]any{"name": "Hall B", "modules": []any{map[string]any{"type": "chat.native"}}}), &created); err != nil || created.Room == "" {
		t.Fatalf("room.create: %+v %v", created, err)
	}
	for i, v := range vl[:2] {
		v.Wait(10*time.Second, "room.create of Hall B on "+nodes[i].pod, func(f nodetest.Frame) bool {
			var d struct{ ID, Name string }
			return f.Kind() == "room.create" && len(f) == 2 && json.Unmarshal(f[1], &d) == nil && d.ID == created.Room && d.Name == "Hall B"
		})
	}
	waitRooms(t, r, getRooms, "the Room of Hall B ready", func(rows map[string]roomRow) error {
		if row := rows[created.Room]; row.DisplayName != "Hall B" || row.Ready != "True" || names[row.Owner] == "" {
			return fmt.Errorf("Room %s: %+v", created.Room, row)
		}
		return nil
	})
}

// killLoungeOwner: SIGKILL the owner of the lounge: the ring moves its rooms
// to the survivors, the operator's status follows, and the new owner counts
// the viewers left on the surviving nodes.
func (s *wholeInstall) killLoungeOwner() {
	t, c, r, nodes, getRooms, vl, onNode := s.t, s.c, s.r, s.nodes, s.getRooms, s.vl, s.onNode
	rows := parseRooms(t, r.sh(getRooms))
	victim := -1
	for i, n := range nodes {
		if n.name == rows["lounge"].Owner {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("the lounge's owner %q is no node", rows["lounge"].Owner)
	}
	var owned []string
	for name, row := range rows {
		if row.Owner == nodes[victim].name {
			owned = append(owned, name)
		}
	}
	slices.Sort(owned)
	survivors := 0
	for _, i := range onNode {
		if i != victim {
			survivors++
		}
	}
	t.Logf("killing %s (%s), owner of %v; %d of the lounge's viewers are elsewhere", nodes[victim].pod, nodes[victim].name, owned, survivors)
	if err := nodes[victim].Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for i, n := range nodes {
		live[n.name] = i != victim
	}
	waitRooms(t, r, getRooms, "the dead node's rooms owned by survivors, the lounge's viewers recounted", func(rows map[string]roomRow) error {
		for _, name := range owned {
			if row := rows[name]; !live[row.Owner] || row.Ready != "True" {
				return fmt.Errorf("%s: owner %q, ready %q", name, row.Owner, row.Ready)
			}
		}
		if v := rows["lounge"].Viewers; v != survivors {
			return fmt.Errorf("lounge: %d viewers", v)
		}
		return nil
	})
	testkit.EventuallyNil(t, 10*time.Second, "an OwnerChanged event of the lounge", func() error {
		out, err := c.try("kubectl", "-n", ns, "get", "events", "--field-selector", "involvedObject.name=lounge,reason=OwnerChanged", "-o", "name")
		if err != nil || strings.TrimSpace(out) == "" {
			return fmt.Errorf("%q %v", out, err)
		}
		return nil
	})
	// The resource reactions the dead owner wrote are in PostgreSQL.
	for i, v := range vl {
		if i != victim {
			s.checkReactions(v.Call("resource.reaction.get", map[string]any{"resource": "talk-1"}), nodes[i].pod)
		}
	}
}
