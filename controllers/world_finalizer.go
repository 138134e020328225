package controllers

import (
	"context"
	"fmt"

	"github.com/roomring/roomring/api/adminapi"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/roomring/roomring/api/v1alpha1"
)

// finalize closes a deleted World's rooms and world on the pool — its
// clients are disconnected — and then lets the World go. When a World of
// the same name in another namespace claims the id, the world stays open:
// that World takes it over (its next reconcile pushes its own
// configuration), and this World's rooms are closed all the same, so the
// other namespace's clients never see them. A World in Conflict closes no
// rooms (its Rooms were never pushed); the world is closed once no live
// World claims its name.
func (r *WorldReconciler) finalize(ctx context.Context, w *v1alpha1.World) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(w, v1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	others, err := worldClaims(ctx, r.Client, w.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.close(ctx, w, others); err != nil {
		return closeFailed(ctx, r.Client, r.Recorder, r.Config, w, &w.Status.Phase, fmt.Sprintf("world %q", w.Name), err)
	}
	if err := patchFinalizer(ctx, r.Client, w, controllerutil.RemoveFinalizer); client.IgnoreNotFound(err) != nil {
		return requeueOnConflict(r.Config, fmt.Errorf("remove finalizer: %w", err))
	}
	return ctrl.Result{}, nil
}

// close closes the World's rooms, and its world unless others (the live
// Worlds of the same name) take it over.
func (r *WorldReconciler) close(ctx context.Context, w *v1alpha1.World, others []*v1alpha1.World) error {
	if err := r.closeRooms(ctx, w); err != nil {
		return err
	}
	if len(others) > 0 {
		logf.FromContext(ctx).Info("world stays open: another World claims its name", "world", w.Name, "next", objRef(others[0]))
		return nil
	}
	err := r.Pool.DeleteWorld(ctx, w.Name)
	switch {
	case err == nil:
		r.Recorder.Eventf(w, corev1.EventTypeNormal, "Closed", "closed world %q on the pool", w.Name)
	case adminapi.IsNotFound(err): // never pushed, or closed already
	default:
		return err
	}
	return nil
}

// closeRooms closes on the pool the rooms of the Rooms of the World's
// namespace that belong to it (and are the served claimants of their ids):
// the node keeps a deleted world's rooms, and a World of the same name
// taking the world over must not inherit them. The Rooms stay, Pending with
// WorldNotFound; they are pushed again if the World comes back.
func (r *WorldReconciler) closeRooms(ctx context.Context, w *v1alpha1.World) error {
	if w.Status.Phase == v1alpha1.PhaseConflict {
		return nil // never served: the world's rooms are another World's
	}
	var list v1alpha1.RoomList
	if err := r.List(ctx, &list, client.InNamespace(w.Namespace), client.MatchingFields{RoomWorldField: w.Name}); err != nil {
		return fmt.Errorf("list the Rooms of world %q: %w", w.Name, err)
	}
	for i := range list.Items {
		room := &list.Items[i]
		if room.Spec.World == "" {
			continue // the built-in world's, when this World is named like it
		}
		all, err := claims(ctx, r.Client, room.RoomID())
		if err != nil {
			return err
		}
		if len(all) > 0 && !sameRoom(all[0], room) {
			continue // another Room serves the id
		}
		if err := r.Pool.DeleteRoom(ctx, room.RoomID()); err != nil && !adminapi.IsNotFound(err) {
			return fmt.Errorf("close room %q: %w", room.RoomID(), err)
		}
	}
	return nil
}
