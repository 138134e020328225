package controllers

import (
	"context"
	"fmt"

	"github.com/roomring/roomring/api/adminapi"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
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
			return closeFailed(ctx, r.Client, r.Recorder, r.Config, room, &room.Status.Phase, fmt.Sprintf("room %q", id), err)
		}
	}
	if err := r.patchFinalizer(ctx, room, controllerutil.RemoveFinalizer); client.IgnoreNotFound(err) != nil {
		return r.requeueOnConflict(fmt.Errorf("remove finalizer: %w", err))
	}
	return ctrl.Result{}, nil
}

// patchFinalizer adds or removes (change) the operator's finalizer on a
// Room (patchFinalizer).
func (r *RoomReconciler) patchFinalizer(ctx context.Context, room *v1alpha1.Room, change func(client.Object, string) bool) error {
	return patchFinalizer(ctx, r.Client, room, change)
}

// patchFinalizer adds or removes (change) the operator's finalizer on obj
// (a Room or a World) with a JSON merge patch of metadata.finalizers alone,
// guarded by its resourceVersion so that a finalizer another writer added
// meanwhile is not lost (the patch replaces the whole list). The operator
// never writes a Room's or a World's spec: a full Update would round-trip it
// through the Go types and drop explicit zero values (omitempty), bump the
// generation and make the operator a field manager of the user's fields.
func patchFinalizer(ctx context.Context, c client.Client, obj client.Object, change func(client.Object, string) bool) error {
	orig, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("patch finalizer: cannot copy %T", obj)
	}
	if !change(obj, v1alpha1.Finalizer) {
		return nil
	}
	return c.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
}

// closeFailed records that closing what (a Room's room, a World's world) on
// the pool failed: a CloseFailed Event, phase Deleting in obj's status
// (phase points into it) once, and err for the controller's backoff. Shared
// by the Room and World finalizers.
func closeFailed(ctx context.Context, c client.Client, rec record.EventRecorder, cfg Config, obj client.Object, phase *string, what string, err error) (ctrl.Result, error) {
	rec.Eventf(obj, corev1.EventTypeWarning, "CloseFailed", "closing %s on the pool: %v", what, err)
	if *phase != v1alpha1.PhaseDeleting {
		*phase = v1alpha1.PhaseDeleting
		if uerr := c.Status().Update(ctx, obj); uerr != nil {
			return requeueOnConflict(cfg, fmt.Errorf("update status: %w", uerr))
		}
	}
	return ctrl.Result{}, fmt.Errorf("close %s: %w", what, err)
}
