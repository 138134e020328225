package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// Two operators — two releases, each with its own pool and leader election
// Lease — that watch the same namespace: the first claims it (a Lease in
// the namespace), the second refuses its Rooms and says so, and takes over
// once the first's claim is released or lapses.

// claimDuration keeps takeovers quick; it is --namespace-claim-duration.
const claimDuration = 3 * time.Second

// claimingOperator is the tests' configuration of an operator named holder
// for namespace ns, with its probes on a free port and its own registry.
func claimingOperator(t *testing.T, ns, holder string) (controllers.ManagerConfig, *prometheus.Registry) {
	cfg := operatorConfig(ns)
	reg := prometheus.NewRegistry()
	cfg.Registry, cfg.ProbeAddr = reg, nodeproc.FreeAddr(t, "127.0.0.1")
	cfg.LeaderElect, cfg.LeaderElectionNamespace, cfg.LeaderElectionID = true, ns, strings.ReplaceAll(holder, "/", "-")+"-leader"
	cfg.Controllers.NamespaceClaimHolder, cfg.Controllers.NamespaceClaimDuration = holder, claimDuration
	return cfg, reg
}

// readyz returns the operator's /readyz answer once it answers.
func readyzOf(t *testing.T, cfg controllers.ManagerConfig) (int, string) {
	t.Helper()
	var code int
	var body string
	testkit.EventuallyNil(t, wait, "/readyz answers", func() error {
		var err error
		code, body, err = httpGet("http://" + cfg.ProbeAddr + "/readyz?verbose")
		return err
	})
	return code, body
}

func claimLease(t *testing.T, ns string) coordinationv1.Lease {
	t.Helper()
	var l coordinationv1.Lease
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: controllers.NamespaceClaimLease}, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func holderOf(l coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leaseEvent waits for an Event on the claim Lease of ns.
func leaseEvent(t *testing.T, ns, typeReason, contains string) {
	t.Helper()
	testkit.EventuallyNil(t, wait, "event "+typeReason+" on the claim Lease", func() error {
		got := eventsOf(t, ns, "Lease", controllers.NamespaceClaimLease)
		for _, e := range got {
			if strings.HasPrefix(e, typeReason+": ") && strings.Contains(e, contains) {
				return nil
			}
		}
		return fmt.Errorf("events %q", got)
	})
}

// claimedGauge is the exposition of roomring_operator_namespace_claimed
// for ns, with a %d for its value.
func claimedGauge(ns string) string {
	return fmt.Sprintf(`
# HELP roomring_operator_namespace_claimed 1 when this operator holds its claim on the namespace and serves its Rooms; 0 while another operator holds it (or it is not decided yet).
# TYPE roomring_operator_namespace_claimed gauge
roomring_operator_namespace_claimed{room_namespace=%q} %%d
`, ns)
}

func TestNamespaceClaimRefusesSecondOperator(t *testing.T) {
	ns := env.Namespace(t)
	na, nb := startNode(t, "node-a"), startNode(t, "node-b")
	cfgA, _ := claimingOperator(t, ns, "team-a/roomring")
	stopA := runOperator(t, env.Config, cfgA, na.Addr())
	create(t, newRoom(ns, "hall", "", "Hall"))
	waitStatus(t, ns, "hall", "ready on A's pool", ready("node-a"))
	if l := claimLease(t, ns); holderOf(l) != "team-a/roomring" || l.Labels[controllers.NamespaceClaimLabel] != "true" {
		t.Fatalf("claim Lease: holder %q, labels %v", holderOf(l), l.Labels)
	}

	// B refuses: not ready (its check names the namespace), an Event on the
	// Lease naming A, its gauge 0 — and the Room stays A's.
	cfgB, regB := claimingOperator(t, ns, "team-b/roomring")
	runOperator(t, env.Config, cfgB, nb.Addr())
	leaseEvent(t, ns, "Warning/Refused", `operator "team-b/roomring" also watches namespace `+ns+`, whose Rooms operator "team-a/roomring" serves`)
	code, body := readyzOf(t, cfgB)
	if code == http.StatusOK || !strings.Contains(body, "[-]namespace-claim-"+ns+" failed") {
		t.Fatalf("B's /readyz: %d %s", code, body)
	}
	if err := testutil.GatherAndCompare(regB, strings.NewReader(fmt.Sprintf(claimedGauge(ns), 0)), "roomring_operator_namespace_claimed"); err != nil {
		t.Fatal(err)
	}
	// B counts no Rooms of a namespace it does not serve: A's Ready Room
	// is A's to report.
	if got := gaugeValue(t, regB, "roomring_operator_rooms", "phase", "Ready"); got != 0 {
		t.Fatalf("B reports %v Ready Rooms in a namespace A serves", got)
	}
	// A live claim holds: A renews it past a whole claim duration, and B
	// still refuses and has not touched the Room.
	first := claimLease(t, ns).Spec.RenewTime.Time
	testkit.EventuallyNil(t, wait, "A renews its claim for a claim duration", func() error {
		if l := claimLease(t, ns); holderOf(l) != "team-a/roomring" || l.Spec.RenewTime.Time.Sub(first) <= claimDuration {
			return fmt.Errorf("holder %q renewed %v after the first look", holderOf(l), l.Spec.RenewTime.Time.Sub(first))
		}
		return nil
	})
	if code, body := readyzOf(t, cfgB); code == http.StatusOK {
		t.Fatalf("B became ready while A holds the namespace: %s", body)
	}
	waitStatus(t, ns, "hall", "still A's", ready("node-a"))

	// A stops and releases its claim: B takes the namespace over at once
	// and serves the Room on its pool.
	stopA()
	waitStatus(t, ns, "hall", "ready on B's pool", ready("node-b"))
	if l := claimLease(t, ns); holderOf(l) != "team-b/roomring" || l.Spec.LeaseTransitions == nil || *l.Spec.LeaseTransitions != 1 {
		t.Fatalf("claim Lease after the takeover: holder %q, transitions %v", holderOf(l), l.Spec.LeaseTransitions)
	}
	leaseEvent(t, ns, "Normal/Claimed", `operator "team-b/roomring" serves the Rooms of namespace `+ns)
	testkit.EventuallyNil(t, wait, "B ready", func() error {
		if code, body := readyzOf(t, cfgB); code != http.StatusOK {
			return fmt.Errorf("%d %s", code, body)
		}
		if err := testutil.GatherAndCompare(regB, strings.NewReader(fmt.Sprintf(claimedGauge(ns), 1)), "roomring_operator_namespace_claimed"); err != nil {
			return err
		}
		if got := gaugeValue(t, regB, "roomring_operator_rooms", "phase", "Ready"); got != 1 {
			return fmt.Errorf("B reports %v Ready Rooms, want the 1 it now serves", got)
		}
		return nil
	})
}

// gaugeValue is the value of the series of gauge name whose label is
// value in reg; the series must be there.
func gaugeValue(t *testing.T, reg prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

// A claim whose holder died without releasing it (nobody renews it) is
// taken over once it has gone unrenewed for its duration.
func TestNamespaceClaimLapses(t *testing.T) {
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	now := metav1.NewMicroTime(time.Now())
	holder, secs := "crashed/roomring", int32(claimDuration/time.Second)
	create(t, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.NamespaceClaimLease},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &now, AcquireTime: &now}})
	create(t, newRoom(ns, "hall", "", "Hall"))

	cfg, _ := claimingOperator(t, ns, "team-a/roomring")
	runOperator(t, env.Config, cfg, n.Addr())
	leaseEvent(t, ns, "Warning/Refused", `whose Rooms operator "crashed/roomring" serves`)
	waitStatus(t, ns, "hall", "ready once the claim lapsed", ready("node-a"))
	if l := claimLease(t, ns); holderOf(l) != "team-a/roomring" {
		t.Fatalf("claim Lease holder %q after the lapse", holderOf(l))
	}
}
