package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The suite runs one real kube-apiserver + etcd (kubetest) for all its
// tests. Each test gets its own namespace, its own nodes (nodetest: real
// nodes on loopback ports, without sample rooms) and its own operator
// manager watching only that namespace, so tests never see each other's
// Rooms. Real websocket clients on the nodes see what the pool's members
// are told.

var env *kubetest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.FromSlogHandler(testkit.MainLogger().Handler())) // controller-runtime's global logger, used by its caches
	kubetest.Main(m, &env, nodeproc.RemoveBinary)
}

const token = "operator-test-token-0123456789"

// wait is the deadline of conditions that need a reconcile or two.
const wait = 20 * time.Second

// startNode starts a node named name without sample rooms, with the admin
// API on. In its built-in world everyone views rooms and trait admin
// administers (the admin clients of the tests).
func startNode(t *testing.T, name string, mut ...func(*node.Config)) *nodetest.Node {
	t.Helper()
	pool := func(cfg *node.Config) {
		cfg.Dev, cfg.AllowGuests, cfg.RoomsFile = false, true, ""
		cfg.NodeName, cfg.Admin.Token = name, token
		cfg.WorldTraitGrants = `{"viewer": [], "admin": ["admin"]}`
	}
	return nodetest.StartWith(t, append([]func(*node.Config){pool}, mut...)...)
}

// startOperator runs an operator for namespace ns against the pool at
// addrs until the test ends.
func startOperator(t *testing.T, ns string, addrs []string, mut ...func(*controllers.Config)) {
	t.Helper()
	cfg := operatorConfig(ns)
	for _, m := range mut {
		m(&cfg.Controllers)
	}
	runOperator(t, env.Config, cfg, addrs...)
}

// operatorConfig is the tests' manager configuration for namespace ns.
func operatorConfig(ns string) controllers.ManagerConfig {
	cfg := controllers.ManagerConfig{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true,
		KubeAPIQPS: controllers.DefaultKubeAPIQPS, KubeAPIBurst: controllers.DefaultKubeAPIBurst,
		Controllers: controllers.DefaultConfig()}
	cfg.Controllers.Namespaces = []string{ns}
	cfg.Registry = prometheus.NewRegistry() // each test's manager has its own metrics
	// Short intervals keep the tests quick; they are the documented
	// settings --status-interval and --pool-poll-interval.
	cfg.Controllers.StatusInterval = 300 * time.Millisecond
	cfg.Controllers.PoolPollInterval = 200 * time.Millisecond
	return cfg
}

// runOperator runs a manager with cfg, as the API server's user of rc,
// against the pool at addrs until the test ends, or until the returned
// stop is called (it waits for the manager to return).
func runOperator(t *testing.T, rc *rest.Config, cfg controllers.ManagerConfig, addrs ...string) (stop func()) {
	t.Helper()
	return runOperatorOn(t, rc, cfg, nodetest.AdminClient(t, token, addrs...))
}

// runOperatorOn is runOperator reaching the pool through pool.
func runOperatorOn(t *testing.T, rc *rest.Config, cfg controllers.ManagerConfig, pool controllers.Pool) (stop func()) {
	t.Helper()
	log := logr.FromSlogHandler(testkit.Logger(t).Handler())
	mgr, err := controllers.NewManager(rc, cfg, pool, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("operator: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func newRoom(ns, name, id, display string) *v1alpha1.Room {
	return &v1alpha1.Room{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RoomSpec{ID: id, DisplayName: display}}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}

func getRoom(ns, name string) (*v1alpha1.Room, error) {
	var r v1alpha1.Room
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &r)
	return &r, err
}

// update changes a Room with mut, retrying on conflicts (the operator
// writes the same object).
func update(t *testing.T, ns, name string, mut func(*v1alpha1.Room)) {
	t.Helper()
	testkit.EventuallyNil(t, wait, "update "+name, func() error {
		r, err := getRoom(ns, name)
		if err != nil {
			return err
		}
		mut(r)
		return env.Client.Update(context.Background(), r)
	})
}

// condition describes a Room's condition for messages: "True/Serving".
func condition(r *v1alpha1.Room, typ string) string {
	c := meta.FindStatusCondition(r.Status.Conditions, typ)
	if c == nil {
		return "absent"
	}
	return string(c.Status) + "/" + c.Reason
}

// waitStatus waits until the Room's status satisfies check.
func waitStatus(t *testing.T, ns, name, what string, check func(r *v1alpha1.Room) error) *v1alpha1.Room {
	t.Helper()
	var last *v1alpha1.Room
	testkit.EventuallyNil(t, wait, name+": "+what, func() error {
		r, err := getRoom(ns, name)
		if err != nil {
			return err
		}
		last = r
		return check(r)
	})
	return last
}

// ready checks that the Room is served at its current generation by owner.
func ready(owner string) func(r *v1alpha1.Room) error {
	return func(r *v1alpha1.Room) error {
		if r.Status.ObservedGeneration != r.Generation || r.Status.Phase != v1alpha1.PhaseReady ||
			condition(r, v1alpha1.ConditionReady) != "True/Serving" || condition(r, v1alpha1.ConditionPlaced) != "True/Placed" ||
			r.Status.OwnerNode != owner {
			return fmt.Errorf("status %+v at generation %d, want ready on %s", r.Status, r.Generation, owner)
		}
		return nil
	}
}

// events returns "Type/Reason: message" of the Events recorded on a Room.
func events(t *testing.T, ns, name string) []string {
	t.Helper()
	return eventsOf(t, ns, "Room", name)
}

// eventsOf returns "Type/Reason: message" of the Events recorded on the
// object of kind named name.
func eventsOf(t *testing.T, ns, kind, name string) []string {
	t.Helper()
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.InvolvedObject.Kind == kind {
			out = append(out, e.Type+"/"+e.Reason+": "+e.Message)
		}
	}
	return out
}

func waitEvent(t *testing.T, ns, name, typeReason string) {
	t.Helper()
	testkit.EventuallyNil(t, wait, "event "+typeReason+" on "+name, func() error {
		got := events(t, ns, name)
		if slices.ContainsFunc(got, func(e string) bool { return len(e) >= len(typeReason) && e[:len(typeReason)] == typeReason }) {
			return nil
		}
		return fmt.Errorf("events %q", got)
	})
}

func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	testkit.EventuallyNil(t, wait, name+" deleted", func() error {
		_, err := getRoom(ns, name)
		if err == nil {
			return errors.New("still there")
		}
		return client.IgnoreNotFound(err)
	})
}
