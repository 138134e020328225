package controllers

import (
	"context"
	"errors"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/roomring/roomring/api/v1alpha1"
)

// downPool is a pool whose DeleteWorld fails while down is set.
type downPool struct {
	down    bool
	deleted []string
}

func (p *downPool) PutWorld(context.Context, string, *v1alpha1.WorldSpec, [][]byte) (adminapi.WorldStatus, error) {
	return adminapi.WorldStatus{}, errors.New("not used")
}

func (p *downPool) DeleteWorld(_ context.Context, id string) error {
	if p.down {
		return errors.New("no node of the pool answered")
	}
	p.deleted = append(p.deleted, id)
	return nil
}

func (p *downPool) DeleteRoom(context.Context, string) error { return nil }

func (p *downPool) WorldEverywhere(context.Context, string) (poolclient.WorldCensus, error) {
	return poolclient.WorldCensus{}, errors.New("not used")
}

// TestWorldFinalizerRetries: while the pool cannot close the world, the
// World stays, in phase Deleting with a CloseFailed event; once it can, the
// world is closed and the finalizer goes.
func TestWorldFinalizerRetries(t *testing.T) {
	ctx := context.Background()
	w := &v1alpha1.World{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "expo", Finalizers: []string{v1alpha1.Finalizer}},
		Spec: v1alpha1.WorldSpec{DisplayName: "Expo"}, Status: v1alpha1.WorldStatus{Phase: v1alpha1.PhaseReady}}
	c := fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(w).WithStatusSubresource(w).
		WithIndex(&v1alpha1.World{}, WorldNameField, IndexWorldName).
		WithIndex(&v1alpha1.Room{}, RoomWorldField, IndexRoomWorld).
		WithIndex(&v1alpha1.Room{}, RoomIDField, IndexRoomID).Build()
	if err := c.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	pool := &downPool{down: true}
	rec := record.NewFakeRecorder(10)
	r := &WorldReconciler{Client: c, Recorder: rec, Pool: pool, Config: DefaultConfig()}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(w)}

	if _, err := r.Reconcile(ctx, req); err == nil {
		t.Fatal("reconcile with the pool down: no error to retry with")
	}
	var got v1alpha1.World
	if err := c.Get(ctx, req.NamespacedName, &got); err != nil || got.Status.Phase != v1alpha1.PhaseDeleting || len(got.Finalizers) != 1 {
		t.Fatalf("while the pool is down: %+v %v", got.Status, err)
	}
	if e := <-rec.Events; e != `Warning CloseFailed closing world "expo" on the pool: no node of the pool answered` {
		t.Fatalf("event %q", e)
	}

	pool.down = false
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, &got); client.IgnoreNotFound(err) != nil || err == nil {
		t.Fatalf("the World is still there: %+v %v", got, err)
	}
	if len(pool.deleted) != 1 || pool.deleted[0] != "expo" {
		t.Fatalf("closed on the pool: %v", pool.deleted)
	}
}
