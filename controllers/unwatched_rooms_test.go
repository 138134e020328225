package controllers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/internal/testkit"
)

// An operator with --report-unwatched-rooms, running with exactly the
// rights of config/rbac (its namespace's Roles, and the cluster-wide
// ClusterRole of the report), records a Warning Event on a Room applied
// where no operator serves — `kubectl describe` shows it — and none while
// an operator claims that namespace.

// grantCluster binds rules to user cluster-wide.
func grantCluster(t *testing.T, user string, rules []rbacv1.PolicyRule) {
	t.Helper()
	name := strings.ReplaceAll(user, ":", "-")
	create(t, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules})
	create(t, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
}

func TestUnwatchedRoomEvent(t *testing.T) {
	ns, elsewhere, claimed := env.Namespace(t), env.Namespace(t), env.Namespace(t)
	op := env.AddUser(t, "unwatched-operator-"+ns)
	grant(t, ns, op.Name, append(loadRules(t, "operator/role.yaml"), loadRules(t, "leader_election_role.yaml")...))
	grantCluster(t, op.Name, loadRules(t, "unwatched_rooms_role.yaml"))
	n := startNode(t, "node-a")
	cfg := operatorConfig(ns)
	cfg.LeaderElect, cfg.LeaderElectionID, cfg.LeaderElectionNamespace = true, "roomring-operator", ns
	cfg.Controllers.ReportUnwatchedRooms = true
	runOperator(t, op.Config, cfg, n.Addr())

	// A Room where no operator serves: a Warning Event that names the
	// namespace, shown by kubectl describe.
	if out, err := kubectl(t, elsewhere, roomYAML("stray", "  displayName: Stray\n"), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	want := "no roomring operator serves namespace " + elsewhere
	waitEvent(t, elsewhere, "stray", "Warning/"+controllers.ReasonUnwatched+": "+want)
	if out := mustKubectl(t, elsewhere, "describe", "room", "stray"); !strings.Contains(out, controllers.ReasonUnwatched) ||
		!strings.Contains(out, want) {
		t.Fatalf("kubectl describe room stray lacks the Unwatched event:\n%s", out)
	}

	// The operator's own Rooms are served, without the Event.
	mustKubectlIn(t, ns, roomYAML("hall", "  displayName: Hall\n"), "apply", "-f", "-")
	waitStatus(t, ns, "hall", "ready", ready("node-a"))
	if unwatched(t, ns, "hall") {
		t.Fatalf("a served Room has an Unwatched event: %q", events(t, ns, "hall"))
	}

	// A Room of a namespace another operator claims is served there
	// without the Event; when that operator goes away (its claim
	// released), the Room gets it.
	m := startNode(t, "node-m")
	stop := runOperator(t, env.Config, operatorConfig(claimed), m.Addr())
	// The claim comes first: a Room applied before it is rightly reported.
	testkit.EventuallyNil(t, wait, "the other operator claims its namespace", func() error {
		var l coordinationv1.Lease
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: claimed, Name: controllers.NamespaceClaimLease}, &l)
		if err == nil && holderOf(l) == "" {
			err = errors.New("no holder")
		}
		return err
	})
	mustKubectlIn(t, claimed, roomYAML("side", "  displayName: Side\n"), "apply", "-f", "-")
	waitStatus(t, claimed, "side", "ready", ready("node-m"))
	if unwatched(t, claimed, "side") {
		t.Fatalf("a Room another operator serves has an Unwatched event: %q", events(t, claimed, "side"))
	}
	stop()
	waitEvent(t, claimed, "side", "Warning/"+controllers.ReasonUnwatched+": no roomring operator serves namespace "+claimed)
}

func unwatched(t *testing.T, ns, name string) bool {
	t.Helper()
	return slices.ContainsFunc(events(t, ns, name), func(e string) bool {
		return strings.HasPrefix(e, "Warning/"+controllers.ReasonUnwatched)
	})
}

func mustKubectlIn(t *testing.T, ns, stdin string, args ...string) {
	t.Helper()
	if out, err := kubectl(t, ns, stdin, args...); err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
}
