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

// finalize closes a deleted Room's room on the pool — its members get
// room.delete — and then lets the Room go. When another Room claims the
// same id, the room stays open: that Room takes it over.
func (r *RoomReconciler) finalize(ctx context.Context, room *v1alpha1.Room) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(room, v1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	id := room.RoomID()
	others, err := claims(ctx, r.Client, id)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(others) > 0 {
		logf.FromContext(ctx).Info("room stays open: another Room claims its id", "room", id, "next", ref(others[0]))
	} else {
		err := r.Pool.DeleteRoom(ctx, id)
		switch {
		case err == nil:
			r.Recorder.Eventf(room, corev1.EventTypeNormal, "Closed", "closed room %q on the pool", id)
		case adminapi.IsNotFound(err): // closed already (a websocket room.delete, or never pushed)
		default:
			r.Recorder.Eventf(room, corev1.EventTypeWarning, "CloseFailed", "closing room %q on the pool: %v", id, err)
			if room.Status.Phase != v1alpha1.PhaseDeleting {
				room.Status.Phase = v1alpha1.PhaseDeleting
				if uerr := r.Status().Update(ctx, room); uerr != nil {
					return r.requeueOnConflict(fmt.Errorf("update status: %w", uerr))
				}
			}
			return ctrl.Result{}, fmt.Errorf("close room %q: %w", id, err)
		}
	}
	controllerutil.RemoveFinalizer(room, v1alpha1.Finalizer)
	if err := r.Update(ctx, room); client.IgnoreNotFound(err) != nil {
		return r.requeueOnConflict(fmt.Errorf("remove finalizer: %w", err))
	}
	return ctrl.Result{}, nil
}
