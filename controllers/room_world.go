package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/roomring/roomring/api/v1alpha1"
)

// Condition reasons of a Room whose world keeps it from the pool.
const (
	// ReasonWorldNotFound: spec.world names a World that does not exist
	// in the Room's namespace.
	ReasonWorldNotFound = "WorldNotFound"
	// ReasonWorldNotReady: the Room's World exists but the pool does not
	// serve it (yet): it waits for a Secret, is invalid, conflicts with
	// another namespace's World of that name, or is being deleted.
	ReasonWorldNotReady = "WorldNotReady"
)

// RoomWorldField indexes Rooms by the world they belong to (Room.WorldID),
// so that a World's changes requeue its Rooms and no others.
const RoomWorldField = ".spec.world"

// IndexRoomWorld is the indexer of RoomWorldField.
func IndexRoomWorld(obj client.Object) []string {
	r, ok := obj.(*v1alpha1.Room)
	if !ok {
		return nil
	}
	return []string{r.WorldID()}
}

// worldBlock is why a Room's world keeps the Room from being pushed.
type worldBlock struct {
	reason, msg string
}

// blockedByWorld returns why the Room may not be pushed because of its
// world, or nil when it may: a Room without spec.world, or naming the
// built-in world while no World of that name exists, belongs to the pool's
// built-in world; any other must name a World of its namespace that the
// pool serves.
func (r *RoomReconciler) blockedByWorld(ctx context.Context, room *v1alpha1.Room) (*worldBlock, error) {
	name := room.Spec.World
	if name == "" {
		return nil, nil
	}
	var w v1alpha1.World
	err := r.Get(ctx, client.ObjectKey{Namespace: room.Namespace, Name: name}, &w)
	switch {
	case apierrors.IsNotFound(err) && name == v1alpha1.DefaultWorld:
		return nil, nil
	case apierrors.IsNotFound(err):
		return &worldBlock{ReasonWorldNotFound, fmt.Sprintf("World %q does not exist in namespace %s", name, room.Namespace)}, nil
	case err != nil:
		return nil, fmt.Errorf("get World %q: %w", name, err)
	case worldReady(&w):
		return nil, nil
	}
	why := w.Status.Phase
	if reason := readyReason(&w); reason != "" {
		why += ": " + reason
	}
	if !w.DeletionTimestamp.IsZero() {
		why = "being deleted"
	} else if why == "" {
		why = "not reconciled yet"
	}
	return &worldBlock{ReasonWorldNotReady, fmt.Sprintf("World %q is not ready (%s)", name, why)}, nil
}

// worldRooms maps a World to the Rooms of its namespace that belong to it,
// so that they are pushed once it is Ready and report it when it is not.
func (r *RoomReconciler) worldRooms(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.RoomList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{RoomWorldField: obj.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].Spec.World != "" {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}

// worldReadinessChanged passes the World events that can change what its
// Rooms report: creation, deletion, and updates that change whether it is
// ready or why not. A World's status changes with every change of its
// connection count; those updates requeue none of its Rooms.
func worldReadinessChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.World)
		n, ok2 := e.ObjectNew.(*v1alpha1.World)
		return !ok1 || !ok2 || worldReady(o) != worldReady(n) || o.Status.Phase != n.Status.Phase ||
			readyReason(o) != readyReason(n) || !o.DeletionTimestamp.Equal(n.DeletionTimestamp)
	}}
}

func readyReason(w *v1alpha1.World) string {
	if c := meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
