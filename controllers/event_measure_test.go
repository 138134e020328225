package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
)

// measureEnv runs TestMeasureEventRooms when set to 1: it is a measurement
// (docs/benchmarks.md), not a check, and loads the machine for a minute.
const measureEnv = "ROOMRING_MEASURE_EVENT"

// Long: one measurement in order (pool, clients, 500 Rooms, 100 renames),
// each phase timed and logged.
//
// TestMeasureEventRooms: an event's 500 Rooms applied at once to a pool of
// three node processes on one PostgreSQL, through an operator with its
// default settings; then 100 of them renamed at once. It logs how long
// until every node's client was told of every room and every Room was
// Ready, and what the renames cost each client in world.updated pushes.
// Nothing is asserted on the times.
func TestMeasureEventRooms(t *testing.T) {
	if os.Getenv(measureEnv) != "1" {
		t.Skip("a measurement: set " + measureEnv + "=1 (docs/benchmarks.md)")
	}
	const rooms, renames = 500, 100
	window := os.Getenv("ROOMRING_MEASURE_WINDOW") // --world-update-window of the nodes ("" = default)
	dsn := pgtest.Start(t).CreateDB(t)
	bin := nodeproc.Binary(t)
	ns := env.Namespace(t)
	var procs []*nodeproc.Member
	for i, host := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		args := append([]string{"node", "--listen", host + ":0", "--gossip-addr", host + ":0", "--log-format", "json",
			"--node-name", fmt.Sprintf("node-%d", i), "--store", dsn,
			"--jwt-secret", nodetest.Secret, "--allow-guests"}, clusterFlags...)
		if window != "" {
			args = append(args, "--world-update-window", window)
		}
		if i > 0 {
			args = append(args, "--join", procs[0].Gossip)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), adminapi.TokenEnv+"="+token)
		procs = append(procs, nodeproc.StartMember(t, fmt.Sprintf("node-%d", i), cmd))
	}
	addrs := []string{procs[0].HTTP, procs[1].HTTP, procs[2].HTTP}
	pool := nodetest.AdminClient(t, token, addrs...)
	for _, p := range procs {
		waitMembers(t, pool, p.HTTP, 3)
	}
	clients := make([]*nodetest.Client, len(procs))
	for i, p := range procs {
		clients[i] = nodetest.Dial(t, p.URL())
		clients[i].Auth(map[string]any{"client_id": fmt.Sprintf("watcher-%d", i)})
	}
	cfg := operatorConfig(ns)
	d := controllers.DefaultConfig() // the suite shortens the intervals; a measurement uses the defaults
	cfg.Controllers.StatusInterval, cfg.Controllers.PoolPollInterval = d.StatusInterval, d.PoolPollInterval
	runOperator(t, env.Config, cfg, addrs...)

	rc := rest.CopyConfig(env.Config)
	rc.QPS, rc.Burst = 1000, 1000 // the test's own writes must not be the bottleneck
	kc, err := client.New(rc, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	parallel(t, rooms, func(i int) error {
		return kc.Create(context.Background(), newRoom(ns, fmt.Sprintf("room-%d", i), "", fmt.Sprintf("Room %d", i)))
	})
	t.Logf("%d Rooms created in %s", rooms, time.Since(start).Round(time.Millisecond))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for range rooms {
				c.Wait(5*time.Minute, "room.create", nodetest.IsEvent("room.create", ""))
			}
			t.Logf("node-%d's client told of all %d rooms after %s", i, rooms, time.Since(start).Round(time.Millisecond))
		})
	}
	wg.Wait()
	waitAllReady(t, kc, ns, rooms, start)

	start = time.Now()
	parallel(t, renames, func(i int) error {
		r := &v1alpha1.Room{}
		if err := kc.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("room-%d", i)}, r); err != nil {
			return err
		}
		r.Spec.DisplayName = fmt.Sprintf("Renamed %d", i)
		return kc.Update(context.Background(), r)
	})
	t.Logf("%d Rooms renamed in %s", renames, time.Since(start).Round(time.Millisecond))
	for i, c := range clients {
		pushes, bytes := 0, 0
		for {
			f := c.Wait(5*time.Minute, "world.updated", nodetest.IsEvent("world.updated", ""))
			pushes, bytes = pushes+1, bytes+len(f[1])
			if renamedAll(f[1], renames) {
				break
			}
		}
		t.Logf("node-%d's client: all %d renames seen after %s, in %d world.updated (%d KB)", i, renames,
			time.Since(start).Round(time.Millisecond), pushes, bytes/1024)
	}
}

// parallel runs f(0..n-1) on 16 goroutines and fails the test on an error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// waitAllReady waits until every Room of ns is Ready and logs when.
func waitAllReady(t *testing.T, kc client.Client, ns string, n int, start time.Time) {
	t.Helper()
	ready := 0
	testkit.Eventually(t, 5*time.Minute, fmt.Sprintf("all %d Rooms Ready", n), func() bool {
		var list v1alpha1.RoomList
		if err := kc.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		ready = 0
		for _, r := range list.Items {
			if r.Status.Phase == v1alpha1.PhaseReady && r.Status.ObservedGeneration == r.Generation {
				ready++
			}
		}
		return ready == n
	})
	t.Logf("all %d Rooms Ready after %s", n, time.Since(start).Round(time.Millisecond))
}

// renamedAll reports whether a world.updated shows rooms room-0..n-1
// renamed.
func renamedAll(raw json.RawMessage, n int) bool {
	var w struct {
		Rooms []struct{ Name string } `json:"rooms"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return false
	}
	k := 0
	for _, r := range w.Rooms {
		if strings.HasPrefix(r.Name, "Renamed ") {
			k++
		}
	}
	return k == n
}
