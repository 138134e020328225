package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
)

// The operator and the nodes run here as users that hold only the roles of
// config/rbac (generated from the +kubebuilder:rbac markers, plus the
// leader election Role): the API server authorizes every request with RBAC,
// so a missing rule fails the test.

// loadRules reads the rules of a Role or ClusterRole manifest of config/rbac.
func loadRules(t *testing.T, path string) []rbacv1.PolicyRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(kubetest.RepoRoot(), "config", "rbac", path))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("---\n"))
	var r struct {
		Rules []rbacv1.PolicyRule `json:"rules"`
	}
	if err := yaml.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(r.Rules) == 0 {
		t.Fatalf("%s has no rules", path)
	}
	return r.Rules
}

// grant binds rules to user in namespace ns with a Role and RoleBinding.
func grant(t *testing.T, ns, user string, rules []rbacv1.PolicyRule) {
	t.Helper()
	name := strings.ReplaceAll(user, ":", "-")
	create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules})
	create(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
}

func TestRBACSuffices(t *testing.T) {
	ns := env.Namespace(t)
	op := env.AddUser(t, "rbac-operator-"+ns)
	nd := env.AddUser(t, "rbac-node-"+ns)
	grant(t, ns, op.Name, append(loadRules(t, "operator/role.yaml"), loadRules(t, "leader_election_role.yaml")...))
	grant(t, ns, nd.Name, loadRules(t, "node/role.yaml"))

	n := startNode(t, "node-a", func(c *node.Config) {
		c.Kube.Namespace, c.Kube.Kubeconfig = ns, nd.Kubeconfig
		c.WorldTraitGrants = `{"viewer": [], "admin": ["admin"]}` // as the chart grants
	})
	cfg := operatorConfig(ns)
	cfg.LeaderElect, cfg.LeaderElectionID, cfg.LeaderElectionNamespace = true, "roomring-operator", ns
	runOperator(t, op.Config, cfg, n.Addr())
	ctx := context.Background()

	// The operator elects itself, reconciles, records events.
	create(t, newRoom(ns, "hall", "", "Hall"))
	waitStatus(t, ns, "hall", "ready", ready("node-a"))
	waitEvent(t, ns, "hall", "Normal/Pushed")
	var lease coordinationv1.Lease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "roomring-operator"}, &lease); err != nil ||
		lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("leader election Lease: %+v, %v", lease.Spec, err)
	}

	// Worlds: their Secrets are read, their status written, their
	// finalizer patched and released.
	create(t, newSecret(ns, "jwt", map[string]string{"k": key("rbac")}))
	create(t, newWorld(ns, "expo", "Expo", "jwt", "k"))
	waitWorldStatus(t, ns, "expo", "ready", worldCounts(0, 0))
	if w, err := getWorld(ns, "expo"); err != nil || env.Client.Delete(ctx, w) != nil {
		t.Fatalf("delete World: %v", err)
	}
	testkit.EventuallyNil(t, wait, "World expo gone", func() error {
		if _, err := getWorld(ns, "expo"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("get: %v", err)
		}
		return nil
	})

	// The node writes Rooms for websocket admin actions.
	adm := adminClient(t, n)
	created := nodetest.Decode[struct{ Room string }](t, adm.Call("room.create", map[string]any{"name": "Side room"}))
	adm.Call("room.config.patch", map[string]any{"room": "hall", "name": "Great Hall"})
	waitStatus(t, ns, created.Room, "ready", ready("node-a"))
	adm.Call("room.delete", map[string]any{"room": created.Room})
	waitGone(t, ns, created.Room)
	if r := mustRoom(t, ns, "hall"); r.Spec.DisplayName != "Great Hall" {
		t.Fatalf("patch did not reach the Room: %+v", r.Spec)
	}

	// ... and nothing more: neither may write a Room's status or touch
	// Rooms elsewhere.
	ncl, err := client.New(nd.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	hall := mustRoom(t, ns, "hall")
	hall.Status.Phase = "Hacked"
	if err := ncl.Status().Update(ctx, hall); !apierrors.IsForbidden(err) {
		t.Errorf("node updates a Room's status: %v, want forbidden", err)
	}
	other := env.Namespace(t)
	for who, cfg := range map[string]kubetest.User{"node": nd, "operator": op} {
		c, err := client.New(cfg.Config, client.Options{Scheme: env.Scheme})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Create(ctx, newRoom(other, "x", "", "X")); !apierrors.IsForbidden(err) {
			t.Errorf("%s creates a Room in another namespace: %v, want forbidden", who, err)
		}
	}
	var list v1alpha1.RoomList
	if err := ncl.List(ctx, &list, client.InNamespace(other)); !apierrors.IsForbidden(err) {
		t.Errorf("node lists Rooms of another namespace: %v, want forbidden", err)
	}
}
