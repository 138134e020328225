package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
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
// room` closes the room on every node; two Worlds applied with kubectl
// each take their own tokens only; after SIGKILL of a room's owner the
// status names a live owner and the viewers left.
func TestWholeInstall(t *testing.T) {
	began := time.Now()
	c := start(t)
	pg := pgtest.Start(t) // the "postgres.db.svc" of the README's DSN
	dsn := pg.CreateDB(t)
	r := readReadme(t, c.root)
	readmeWorkDir(t, c, r)
	s := &wholeInstall{t: t, c: c, r: r, dsn: dsn}
	s.bin = buildRoomring(t, c, r)

	s.helmInstall()
	s.startNodes()
	s.waitNodesReady()
	s.startOperator()
	s.applySamples()
	s.connectClients()
	s.enterRooms()
	s.roomReactions()
	s.resourceReactions()
	s.deleteRoom()
	s.createRoom()
	s.twoWorlds()
	s.killLoungeOwner()

	r.checkAllRun()
	t.Logf("the whole install took %v", time.Since(began).Round(time.Second))
}

// wholeInstall is what the steps of TestWholeInstall share; each step sets
// the fields the later ones use, in the order the test calls them.
type wholeInstall struct {
	t   *testing.T
	c   *cluster
	r   *readme
	dsn string // the test's PostgreSQL database
	bin string // the roomring binary the README's commands run

	nodes      []*node           // startNodes
	adminToken string            // waitNodesReady: the Secret's admin-token
	getRooms   string            // applySamples: the README's kubectl get rooms
	names      map[string]string // applySamples: member name → pod

	tokenScript string             // connectClients: the README's token commands
	vl          []*nodetest.Client // connectClients: venueless, one per node
	sio4, sio2  *sioClient         // connectClients: socket.io-client 4.x on node 1, 2.x on node 2
	onNode      map[string]int     // connectClients: user → node index
}

// sampleIDs are the room ids of config/samples/ (main-stage has spec.id
// room_1).
var sampleIDs = []string{"backstage", "lounge", "room_1", "workshop-a"}

// helmInstall: helm install, exactly as the README says (the DSN points at
// the test's PostgreSQL).
func (s *wholeInstall) helmInstall() {
	t, c, r := s.t, s.c, s.r
	r.sh(r.cmd("kubectl create namespace"))
	r.sh(r.replace(r.cmd("kubectl -n roomring create secret generic roomring-db"), regexp.MustCompile(`dsn='[^']*'`), "dsn='"+s.dsn+"'"))
	if out := r.sh(r.cmd("helm install")); !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("helm install:\n%s", out)
	}
	c.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/rooms.roomring.dev")
}

// startNodes starts the node pods: the StatefulSet's container on
// 127.0.0.21-23.
func (s *wholeInstall) startNodes() {
	t, c, bin := s.t, s.c, s.bin
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
	s.nodes = nodes
}

// waitNodesReady waits for every node to be ready and see all members, and
// checks the client listener does not serve the admin API.
func (s *wholeInstall) waitNodesReady() {
	t, c, nodes := s.t, s.c, s.nodes
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
	s.adminToken = adminToken
}

// startOperator starts the operator pod: the Deployment's container, its
// pool Service being the three nodes' admin listeners.
func (s *wholeInstall) startOperator() {
	t, c, bin, nodes := s.t, s.c, s.bin, s.nodes
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
}

// applySamples: kubectl apply -f config/samples/: every Room ready with an
// owner, and every node serving every room.
func (s *wholeInstall) applySamples() {
	t, r, nodes, adminToken := s.t, s.r, s.nodes, s.adminToken
	r.sh(r.cmd("kubectl -n roomring apply -f config/samples/"))
	getRooms := r.cmd("kubectl -n roomring get rooms")
	names := map[string]string{} // member name → pod
	for _, n := range nodes {
		names[n.name] = n.pod
	}
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
	s.getRooms, s.names = getRooms, names
}
