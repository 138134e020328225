package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The operator's own metrics, read from its registry: Rooms and Worlds by
// phase and the pool's reachability.
func TestOperatorMetrics(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	cfg := operatorConfig(ns)
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	runOperator(t, env.Config, cfg, n.Addr())

	create(t, newRoom(ns, "first", "shared", "First"))
	waitStatus(t, ns, "first", "ready", ready("node-a"))
	create(t, newRoom(ns, "second", "shared", "Second"))
	create(t, newRoom(ns, "third", "", "Third"))
	waitStatus(t, ns, "third", "ready", ready("node-a"))
	// A World waiting for its Secret.
	create(t, newWorld(ns, "expo", "Expo", "absent", "k"))
	waitWorldStatus(t, ns, "expo", "pending", worldIs(v1alpha1.PhasePending, "SecretMissing", "absent"))

	want := `
# HELP roomring_operator_pool_members Members of the pool at the operator's last poll: the largest membership a reachable node reports (0 when none answered).
# TYPE roomring_operator_pool_members gauge
roomring_operator_pool_members 1
# HELP roomring_operator_pool_up 1 if a node of the pool answered the operator's last poll, 0 if none did.
# TYPE roomring_operator_pool_up gauge
roomring_operator_pool_up 1
# HELP roomring_operator_rooms Rooms in the operator's namespaces by status.phase (Unreconciled: no status written yet).
# TYPE roomring_operator_rooms gauge
roomring_operator_rooms{phase="Conflict"} 1
roomring_operator_rooms{phase="Deleting"} 0
roomring_operator_rooms{phase="Invalid"} 0
roomring_operator_rooms{phase="Pending"} 0
roomring_operator_rooms{phase="Ready"} 2
roomring_operator_rooms{phase="Unreconciled"} 0
# HELP roomring_operator_worlds Worlds in the operator's namespaces by status.phase (Unreconciled: no status written yet).
# TYPE roomring_operator_worlds gauge
roomring_operator_worlds{phase="Conflict"} 0
roomring_operator_worlds{phase="Deleting"} 0
roomring_operator_worlds{phase="Invalid"} 0
roomring_operator_worlds{phase="Pending"} 1
roomring_operator_worlds{phase="Ready"} 0
roomring_operator_worlds{phase="Unreconciled"} 0
`
	testkit.EventuallyNil(t, wait, "Rooms and Worlds by phase in the metrics", func() error {
		return testutil.GatherAndCompare(reg, strings.NewReader(want),
			"roomring_operator_rooms", "roomring_operator_worlds", "roomring_operator_pool_up", "roomring_operator_pool_members")
	})
}

// /readyz fails while no node of the pool answers, though the cache has
// synced, and passes once one does.
func TestOperatorReadyz(t *testing.T) {
	ns := env.Namespace(t)
	cfg := operatorConfig(ns)
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	cfg.ProbeAddr = nodeproc.FreeAddr(t, "127.0.0.1")
	runOperator(t, env.Config, cfg, "127.0.0.1:1") // nothing listens there
	readyz := func() (int, error) {
		code, _, err := httpGet("http://" + cfg.ProbeAddr + "/readyz")
		return code, err
	}

	// The Room is reconciled (the cache has synced) and the pool was polled.
	create(t, newRoom(ns, "hall", "", "Hall"))
	waitStatus(t, ns, "hall", "pool unavailable", func(r *v1alpha1.Room) error {
		if r.Status.Phase != v1alpha1.PhasePending {
			return fmt.Errorf("status %+v", r.Status)
		}
		return nil
	})
	testkit.EventuallyNil(t, wait, "pool_up 0", func() error {
		return testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP roomring_operator_pool_up 1 if a node of the pool answered the operator's last poll, 0 if none did.
# TYPE roomring_operator_pool_up gauge
roomring_operator_pool_up 0
`), "roomring_operator_pool_up")
	})
	testkit.EventuallyNil(t, wait, "/readyz answers", func() error {
		_, err := readyz()
		return err
	})
	if code, err := readyz(); err != nil || code == http.StatusOK {
		t.Fatalf("/readyz with the pool unreachable: %d %v, want a failure", code, err)
	}

	// An operator whose pool answers is ready.
	n := startNode(t, "node-a")
	cfg2 := operatorConfig(env.Namespace(t))
	cfg2.ProbeAddr = nodeproc.FreeAddr(t, "127.0.0.1")
	runOperator(t, env.Config, cfg2, n.Addr())
	testkit.EventuallyNil(t, wait, "/readyz with a reachable pool", func() error {
		code, body, err := httpGet("http://" + cfg2.ProbeAddr + "/readyz")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
}
