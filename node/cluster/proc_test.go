package cluster_test

import (
	"os/exec"
	"testing"

	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The crash tests run the real binary as child processes (nodeproc), built
// once per test binary, so that a node can be killed for real (SIGKILL).

func TestMain(m *testing.M) { nodeproc.Main(m) }

// startProc starts a dev node named name on host (every port chosen by the
// kernel) that joins join, and waits until it listens.
func startProc(t *testing.T, host, name string, join ...string) *nodeproc.Member {
	t.Helper()
	args := nodeArgs(t, name, host+":0", host+":0", host+":0", join...)
	return nodeproc.StartMember(t, name, exec.Command(nodeproc.Binary(t), args...))
}

// nodeArgs are the arguments of a test node, on its own embedded store.
func nodeArgs(t *testing.T, name, listen, gossip, peerAddr string, join ...string) []string {
	return nodeproc.MemberArgs(t, nodeproc.MemberConfig{Name: name, Listen: listen, Gossip: gossip, Peer: peerAddr,
		ClusterKey: testKey, AdminToken: adminToken, Join: join, NodeLocalStore: true})
}

// adminToken is the admin API token of test processes.
const adminToken = "cluster-test-admin-token"
