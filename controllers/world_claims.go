package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/roomring/roomring/api/v1alpha1"
)

// WorldNameField indexes Worlds by their name, the world id on the pool,
// so that the Worlds of every namespace claiming one id are found without
// listing them all.
const WorldNameField = ".metadata.worldName"

// IndexWorldName is the indexer of WorldNameField.
func IndexWorldName(obj client.Object) []string {
	w, ok := obj.(*v1alpha1.World)
	if !ok {
		return nil
	}
	return []string{w.Name}
}

// worldPrecedes reports whether a's claim on its world id comes before
// b's: the oldest by creation time, then by namespace (the order of Rooms
// claiming one room id, v1alpha1.Room.Precedes).
func worldPrecedes(a, b *v1alpha1.World) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace < b.Namespace
}

// worldClaims returns the Worlds named id, in every namespace the operator
// watches, that are not being deleted, in precedence order: the pool
// serves the first.
func worldClaims(ctx context.Context, c client.Reader, id string) ([]*v1alpha1.World, error) {
	var list v1alpha1.WorldList
	if err := c.List(ctx, &list, client.MatchingFields{WorldNameField: id}); err != nil {
		return nil, fmt.Errorf("list Worlds named %q: %w", id, err)
	}
	out := make([]*v1alpha1.World, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			out = append(out, &list.Items[i])
		}
	}
	slices.SortFunc(out, func(a, b *v1alpha1.World) int {
		switch {
		case worldPrecedes(a, b):
			return -1
		case worldPrecedes(b, a):
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// sameObject reports whether a and b name the same object.
func sameObject(a, b client.Object) bool {
	return a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName()
}

func objRef(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }

// sameNameRequests maps a World to the Worlds of the same name in other
// namespaces, so that the next one takes the world over when the served
// one goes, and a newer one is flagged Conflict.
func (r *WorldReconciler) sameNameRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.WorldList
	if err := r.List(ctx, &list, client.MatchingFields{WorldNameField: obj.GetName()}); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if !sameObject(&list.Items[i], obj) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}
