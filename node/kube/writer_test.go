package kube

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/store/bolt"
)

// The Writer's tests run against a real kube-apiserver.

var env *kubetest.Env

func TestMain(m *testing.M) { kubetest.Main(m, &env) }

// deleteWatch is a client whose Room deletions note whether the catalog
// still held the room then, and fail when fail is set.
type deleteWatch struct {
	client.Client
	cat        *catalog.Catalog
	heldByThen []bool
	fail       error
}

func (d *deleteWatch) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if r, ok := obj.(*v1alpha1.Room); ok {
		d.heldByThen = append(d.heldByThen, d.cat.Exists(r.RoomID()))
	}
	if d.fail != nil {
		return d.fail
	}
	return d.Client.Delete(ctx, obj, opts...)
}

// writerOn returns a Writer of a fresh namespace holding a Room lounge,
// whose catalog holds room lounge when open.
func writerOn(t *testing.T, open bool) (*Writer, *deleteWatch, string) {
	t.Helper()
	ctx := context.Background()
	st, err := bolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cat, err := catalog.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if open {
		if err := cat.Upsert(ctx, &catalog.Room{ID: "lounge", Name: "Lounge"}); err != nil {
			t.Fatal(err)
		}
	}
	ns := env.Namespace(t)
	if err := env.Client.Create(ctx, &v1alpha1.Room{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lounge"},
		Spec: v1alpha1.RoomSpec{DisplayName: "Lounge"}}); err != nil {
		t.Fatal(err)
	}
	dw := &deleteWatch{Client: env.Client, cat: cat}
	return NewWriter(dw, Config{Namespace: ns, Timeout: DefaultTimeout}, cat, testkit.Logger(t)), dw, ns
}

func roomGone(t *testing.T, ns string) bool {
	t.Helper()
	var r v1alpha1.Room
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "lounge"}, &r)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return apierrors.IsNotFound(err)
}

// TestDeleteRoomsBeforeCatalog: a room.delete deletes the Room while the
// catalog still holds the room, so the operator never sees a live Room
// whose room is gone (it would push it back, and close it again).
func TestDeleteRoomsBeforeCatalog(t *testing.T) {
	w, dw, ns := writerOn(t, true)
	if err := w.Delete(context.Background(), "lounge"); err != nil {
		t.Fatal(err)
	}
	if len(dw.heldByThen) != 1 || !dw.heldByThen[0] {
		t.Fatalf("catalog held the room at its Room's deletion: %v, want [true]", dw.heldByThen)
	}
	if w.catalog.Exists("lounge") || !roomGone(t, ns) {
		t.Fatal("room or Room left")
	}
}

// TestDeleteClosedMeanwhile: when the room left the catalog while its Room
// was being deleted (the operator's finalizer closed it and told the
// clients), Delete says so, and the engine tells nobody again.
func TestDeleteClosedMeanwhile(t *testing.T) {
	w, _, ns := writerOn(t, false)
	if err := w.Delete(context.Background(), "lounge"); !errors.Is(err, engine.ErrClosedMeanwhile) {
		t.Fatalf("Delete = %v, want ErrClosedMeanwhile", err)
	}
	if !roomGone(t, ns) {
		t.Fatal("Room left")
	}
}

// TestDeleteKeepsRoomWhenTheRoomStays: a Room that cannot be deleted
// leaves the room open; the Rooms stay the truth.
func TestDeleteKeepsRoomWhenTheRoomStays(t *testing.T) {
	w, dw, ns := writerOn(t, true)
	dw.fail = errors.New("the API server refuses")
	if err := w.Delete(context.Background(), "lounge"); err == nil {
		t.Fatal("Delete succeeded")
	}
	if !w.catalog.Exists("lounge") || roomGone(t, ns) {
		t.Fatal("the room closed though its Room stays")
	}
}
