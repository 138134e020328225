package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestWholeInstall installs roomring as the README's "Run on Kubernetes"
// section says — running the section's own commands — and runs the pool the
// chart describes: three `roomring node` processes and `roomring operator`
// with the arguments, environment and service accounts of the installed
// StatefulSet and Deployment (see pods_test.go), PostgreSQL behind the DSN
// Secret. Then, with venueless clients (Go websocket) and Socket.IO clients
// (socket.io-client 4.x and 2.x from npm) on different nodes, it checks:
// every node serves the sample Rooms; room reactions from three nodes are
// counted in one room.reaction; resource reactions cross nodes and
// dialects; `kubectl get rooms` shows owners and viewers; `kubectl delete
// room` closes the room on every node; after SIGKILL of a room's owner the
// status names a live owner and the viewers left.
func TestWholeInstall(t *testing.T) {
	began := time.Now()
	c := start(t)
	pg := pgtest.Start(t) // the "postgres.db.svc" of the README's DSN
	dsn := pg.CreateDB(t)
	r := readReadme(t, c.root)
	readmeWorkDir(t, c, r)
	bin := buildRoomring(t, c, r)

	// helm install, exactly as the README says (the DSN points at the test's
	// PostgreSQL).
	r.sh(r.cmd("kubectl create namespace"))
	r.sh(r.replace(r.cmd("kubectl -n roomring create secret generic roomring-db"), regexp.MustCompile(`dsn='[^']*'`), "dsn='"+dsn+"'"))
	if out := r.sh(r.cmd("helm install")); !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("helm install:\n%s", out)
	}
	c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/rooms.roomring.dev")

	// The node pods: the StatefulSet's container on 127.0.0.21-23.
	var sts struct {
		Spec struct{ Replicas int } `json:"spec"`
	}
	if err := json.Unmarshal([]byte(c.kubectl("-n", ns, "get", "statefulset", full, "-o", "json")), &sts); err != nil || sts.Spec.Replicas != 3 {
		t.Fatalf("StatefulSet replicas %d (%v), want 3 (node.replicas=3 in the README)", sts.Spec.Replicas, err)
	}
	nodeSA, nodeCtr := c.workload("statefulset", full)
	nodeKubeconfig := c.serviceAccountKubeconfig(nodeSA)
	nodes := make([]*node, sts.Spec.Replicas)
	for i := range nodes {
		pod, ip := fmt.Sprintf("%s-%d", full, i), fmt.Sprintf("127.0.0.%d", 21+i)
		join := "" // the first pod finds nobody behind the gossip Service yet
		if i > 0 {
			join = nodes[0].gossip
		}
		env := c.podEnv(nodeCtr, pod, ip)
		env["KUBECONFIG"] = nodeKubeconfig // in place of the in-cluster configuration
		for _, k := range []string{"ROOMRING_JWT_SECRET", "ROOMRING_CLUSTER_KEY", "ROOMRING_ADMIN_TOKEN", "ROOMRING_STORE"} {
			if env[k] == "" {
				t.Fatalf("the node container's environment lacks %s: %v", k, slices.Sorted(maps.Keys(env)))
			}
		}
		args := podArgs(t, nodeCtr, env, map[string]string{
			"listen": ip + ":0", "admin-listen": ip + ":0", "data-dir": t.TempDir(),
			"gossip-addr": ip + ":0", "gossip-advertise-addr": "",
			"peer-addr": ip + ":0", "peer-advertise-addr": "",
			"join": join,
		})
		if !slices.Contains(args, "--kube-namespace="+ns) {
			t.Fatalf("node args %q lack --kube-namespace=%s", args, ns)
		}
		nodes[i] = startNode(t, pod, bin, append(args, testClock...), env)
	}
	adminToken := c.secretData(full)["admin-token"]
	for _, n := range nodes {
		testkit.EventuallyNil(t, 30*time.Second, n.pod+" ready and seeing 3 members", func() error {
			if code, body, err := httpGet("http://"+n.http+"/readyz", ""); err != nil || code != 200 {
				return fmt.Errorf("/readyz: %d %s %v", code, body, err)
			}
			var pool struct{ Members []struct{ Name string } }
			if err := adminGet(n.admin, "/internal/v1/pool", adminToken, &pool); err != nil {
				return err
			}
			if len(pool.Members) != len(nodes) {
				return fmt.Errorf("members %v", pool.Members)
			}
			return nil
		})
		// The client Service's port does not reach the admin API, even with
		// the token.
		if code, body, err := httpGet("http://"+n.http+"/internal/v1/pool", adminToken); err != nil || code != 404 {
			t.Fatalf("%s: the admin API on the client listener: %d %s %v, want 404", n.pod, code, body, err)
		}
	}

	// The operator pod: the Deployment's container, its pool Service being
	// the three nodes' admin listeners.
	opSA, opCtr := c.workload("deployment", full+"-operator")
	opEnv := c.podEnv(opCtr, full+"-operator-0", "127.0.0.20")
	opEnv["KUBECONFIG"] = c.serviceAccountKubeconfig(opSA)
	probes := nodeproc.FreeAddr(t, "127.0.0.20")
	opArgs := podArgs(t, opCtr, opEnv, map[string]string{
		"pool":                      nodes[0].admin + "," + nodes[1].admin + "," + nodes[2].admin,
		"metrics-bind-address":      "127.0.0.20:0",
		"health-probe-bind-address": probes,
	})
	// In a pod the Lease's namespace comes from the service account's
	// namespace file; the status clock is shortened for the test.
	opArgs = append(opArgs, "--leader-election-namespace="+ns, "--status-interval=1s", "--pool-poll-interval=300ms")
	startProc(t, full+"-operator-0", bin, opArgs, opEnv)
	testkit.EventuallyNil(t, 30*time.Second, "the operator's /readyz", func() error {
		code, body, err := httpGet("http://"+probes+"/readyz", "")
		if err != nil || code != 200 {
			return fmt.Errorf("%d %s %v", code, body, err)
		}
		return nil
	})

	// kubectl apply -f config/samples/: every Room ready with an owner, and
	// every node serving every room.
	r.sh(r.cmd("kubectl -n roomring apply -f config/samples/"))
	getRooms := r.cmd("kubectl -n roomring get rooms")
	names := map[string]string{} // member name → pod
	for _, n := range nodes {
		names[n.name] = n.pod
	}
	sampleIDs := []string{"backstage", "lounge", "room_1", "workshop-a"} // main-stage has spec.id room_1
	waitRooms(t, r, getRooms, "the sample Rooms ready and owned", func(rows map[string]roomRow) error {
		if len(rows) != 4 {
			return fmt.Errorf("%d Rooms", len(rows))
		}
		for _, row := range rows {
			if row.Ready != "True" || names[row.Owner] == "" {
				return fmt.Errorf("%s: ready %q, owner %q (members %v)", row.Name, row.Ready, row.Owner, slices.Sorted(maps.Keys(names)))
			}
		}
		return nil
	})
	for _, n := range nodes {
		testkit.EventuallyNil(t, 10*time.Second, n.pod+" serving the sample rooms", func() error {
			var list struct{ Rooms []string }
			if err := adminGet(n.admin, "/internal/v1/rooms", adminToken, &list); err != nil {
				return err
			}
			if slices.Sort(list.Rooms); !slices.Equal(list.Rooms, sampleIDs) {
				return fmt.Errorf("rooms %v", list.Rooms)
			}
			return nil
		})
	}

	// Clients on different nodes, with tokens minted as the README says.
	tokenScript := r.cmd("SECRET=") + "\n" + r.cmd("bin/roomring token")
	mint := func(uid string) string {
		t.Helper()
		return strings.TrimSpace(r.sh(r.replace(tokenScript, regexp.MustCompile(`--uid alice\b`), "--uid "+uid)))
	}
	users := []string{"alice", "bob", "carol"}
	vl := make([]*nodetest.Client, len(nodes)) // venueless, one per node
	for i, n := range nodes {
		vl[i] = nodetest.Dial(t, "ws://"+n.http+"/ws/world/default/")
		var authed struct {
			World struct {
				Rooms []struct{ ID string }
			} `json:"world.config"`
		}
		if err := json.Unmarshal(vl[i].Auth(map[string]any{"token": mint(users[i])}), &authed); err != nil {
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
	sio4 := connectSio(t, agent, "valu4", 4, nodes[1].http, mint("valu-4")) // socket.io-client 4.x on node 1
	sio2 := connectSio(t, agent, "valu2", 2, nodes[2].http, mint("valu-2")) // socket.io-client 2.x on node 2
	onNode := map[string]int{"alice": 0, "bob": 1, "carol": 2, "valu-4": 1, "valu-2": 2}

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

	// Room reactions from three nodes, counted by the owner into one
	// room.reaction that reaches every node. Reactions are counted per
	// one-second window: three sent at once may straddle a window boundary
	// (then two frames add up to 3), so each emoji is one try.
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

	// Resource reactions across nodes and dialects: Valu (Socket.IO 4.x, node
	// 1) → venueless (node 0) and Socket.IO 2.x (node 2); venueless (node 2)
	// → Socket.IO 4.x (node 1). The owner writes them through to PostgreSQL.
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
	checkReactions := func(got json.RawMessage, where string) {
		t.Helper()
		var d struct {
			Reactions [][]string
			Total     int
		}
		if err := json.Unmarshal(got, &d); err != nil || d.Total != 2 || len(d.Reactions) != 2 {
			t.Fatalf("reactions to talk-1 read on %s: %s (%v), want valu-4's and carol's", where, got, err)
		}
	}
	checkReactions(sio2.call("resource:getReactions", map[string]any{"resourceId": "talk-1"}), nodes[2].pod)

	// kubectl delete room: the operator's finalizer closes the room, and its
	// members on every node hear room.delete.
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

	// A websocket admin action writes a Room (the node's --kube-namespace,
	// with the node service account's RBAC); the operator serves it and the
	// other nodes' clients hear of the new room.
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

	// SIGKILL the owner of the lounge: the ring moves its rooms to the
	// survivors, the operator's status follows, and the new owner counts the
	// viewers left on the surviving nodes.
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
			checkReactions(v.Call("resource.reaction.get", map[string]any{"resource": "talk-1"}), nodes[i].pod)
		}
	}

	r.checkAllRun()
	t.Logf("the whole install took %v", time.Since(began).Round(time.Second))
}

// testClock tunes failure detection for the test: the mechanisms of
// production on a shorter clock (as in the controllers' node tests).
var testClock = append([]string{"--rebuild-window=500ms"}, nodeproc.ClockFlags...)

// node is a running node pod.
type node struct {
	*nodeproc.Proc
	pod, name, http, admin, gossip string // pod, member name, HTTP listener, admin API listener, gossip address
}

func startNode(t *testing.T, pod, bin string, args []string, env map[string]string) *node {
	t.Helper()
	p := startProc(t, pod, bin, args, env)
	n := &node{Proc: p, pod: pod}
	listening := p.Record("node listening", 30*time.Second)
	n.http, _ = listening["addr"].(string)
	n.admin, _ = listening["admin_addr"].(string)
	member := p.Record("cluster member", 30*time.Second)
	n.name, _ = member["name"].(string)
	n.gossip, _ = member["gossip"].(string)
	if n.http == "" || n.admin == "" || n.admin == n.http || n.name == "" || n.gossip == "" {
		t.Fatalf("%s: listening on %q, admin API on %q, member %v", pod, n.http, n.admin, member)
	}
	return n
}

// adminGet GETs a node's admin API and decodes the answer into v.
func adminGet(addr, path, token string, v any) error {
	code, body, err := httpGet("http://"+addr+path, token)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	return json.Unmarshal(body, v)
}

// roomRow is a row of `kubectl get rooms`.
type roomRow struct {
	Name, DisplayName, Owner, Ready string
	Viewers                         int // -1 when empty
}

// parseRooms reads the table of `kubectl get rooms` by its header's column
// positions (DISPLAY NAME holds a space).
func parseRooms(t *testing.T, out string) map[string]roomRow {
	t.Helper()
	rows := map[string]roomRow{}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return rows
	}
	cols := []string{"NAME", "DISPLAY NAME", "OWNER", "VIEWERS", "READY", "AGE"}
	starts := make([]int, len(cols))
	for i, col := range cols {
		if starts[i] = strings.Index(lines[0], col); starts[i] < 0 || i > 0 && starts[i] <= starts[i-1] {
			t.Fatalf("kubectl get rooms: header %q lacks %s in order %v", lines[0], col, cols)
		}
	}
	for _, line := range lines[1:] {
		field := func(i int) string {
			from, to := min(starts[i], len(line)), len(line)
			if i+1 < len(starts) {
				to = min(starts[i+1], len(line))
			}
			if v := strings.TrimSpace(line[from:to]); v != "<none>" {
				return v
			}
			return ""
		}
		row := roomRow{Name: field(0), DisplayName: field(1), Owner: field(2), Ready: field(4), Viewers: -1}
		if v, err := strconv.Atoi(field(3)); err == nil {
			row.Viewers = v
		}
		rows[row.Name] = row
	}
	return rows
}

// waitRooms runs the README's `kubectl get rooms` until ok accepts its
// table.
func waitRooms(t *testing.T, r *readme, getRooms, what string, ok func(map[string]roomRow) error) {
	t.Helper()
	var last string
	testkit.EventuallyNil(t, 30*time.Second, what, func() error {
		out, err := r.try(getRooms)
		if err != nil {
			return err
		}
		last = out
		if err := ok(parseRooms(t, out)); err != nil {
			return fmt.Errorf("%v\n%s", err, last)
		}
		return nil
	})
}

// buildRoomring builds the roomring binary into the README commands'
// working directory (bin/roomring) and returns it.
func buildRoomring(t *testing.T, c *cluster, r *readme) string {
	t.Helper()
	bin := filepath.Join(r.dir, "bin", "roomring")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// readmeWorkDir makes the README commands' working directory, a stand-in
// for the repository root: charts/ and config/ are the repository's, bin/
// holds what the test builds, and helm (bin/helm of the repository) is on
// the PATH.
func readmeWorkDir(t *testing.T, c *cluster, r *readme) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"charts", "config"} {
		if err := os.Symlink(filepath.Join(c.root, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "path")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(c.helm, filepath.Join(path, "helm")); err != nil {
		t.Fatal(err)
	}
	r.dir = dir
	r.env = append(slices.Clone(c.env), "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"))
}
