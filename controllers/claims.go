package controllers

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/roomring/roomring/api/v1alpha1"
)

// RoomIDField indexes Rooms by their protocol id (spec.id, or the name), so
// the Rooms claiming one id are found without listing them all.
const RoomIDField = ".spec.roomID"

// IndexRoomID is the indexer of RoomIDField.
func IndexRoomID(obj client.Object) []string {
	r, ok := obj.(*v1alpha1.Room)
	if !ok {
		return nil
	}
	return []string{r.RoomID()}
}

// claims returns the Rooms that claim id and are not being deleted, in
// precedence order: the first is the one the pool serves.
func claims(ctx context.Context, c client.Reader, id string) ([]*v1alpha1.Room, error) {
	var list v1alpha1.RoomList
	if err := c.List(ctx, &list, client.MatchingFields{RoomIDField: id}); err != nil {
		return nil, fmt.Errorf("list Rooms claiming %q: %w", id, err)
	}
	out := make([]*v1alpha1.Room, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			out = append(out, &list.Items[i])
		}
	}
	v1alpha1.SortClaims(out)
	return out, nil
}

// sameIDRequests maps a Room to the other Rooms claiming its id, so they
// are reconciled when it is created, changed or deleted: the next claimant
// takes over when the served one goes, and duplicates are flagged on both
// sides.
func (r *RoomReconciler) sameIDRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	room, ok := obj.(*v1alpha1.Room)
	if !ok {
		return nil
	}
	var list v1alpha1.RoomList
	if err := r.List(ctx, &list, client.MatchingFields{RoomIDField: room.RoomID()}); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, o := range list.Items {
		if o.Namespace != room.Namespace || o.Name != room.Name {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&o)})
		}
	}
	return out
}
