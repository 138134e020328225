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

// finalize closes a deleted World's world on the pool — its clients are
// disconnected and its rooms closed — and then lets the World go. When a
// World of the same name in another namespace claims the id, the world
// stays open: that World takes it over (its next reconcile pushes its own
// configuration). A World that never was served (Conflict) closes nothing.
func (r *WorldReconciler) finalize(ctx context.Context, w *v1alpha1.World) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(w, v1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	others, err := worldClaims(ctx, r.Client, w.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case len(others) > 0:
		logf.FromContext(ctx).Info("world stays open: another World claims its name", "world", w.Name, "next", objRef(others[0]))
	case w.Status.Phase == v1alpha1.PhaseConflict:
		// Never served: the world on the pool, if any, is another's.
	default:
		err := r.Pool.DeleteWorld(ctx, w.Name)
		switch {
		case err == nil:
			r.Recorder.Eventf(w, corev1.EventTypeNormal, "Closed", "closed world %q on the pool", w.Name)
		case adminapi.IsNotFound(err): // never pushed, or closed already
		default:
			r.Recorder.Eventf(w, corev1.EventTypeWarning, "CloseFailed", "closing world %q on the pool: %v", w.Name, err)
			if w.Status.Phase != v1alpha1.PhaseDeleting {
				w.Status.Phase = v1alpha1.PhaseDeleting
				if uerr := r.Status().Update(ctx, w); uerr != nil {
					return requeueOnConflict(r.Config, fmt.Errorf("update status: %w", uerr))
				}
			}
			return ctrl.Result{}, fmt.Errorf("close world %q: %w", w.Name, err)
		}
	}
	if err := patchFinalizer(ctx, r.Client, w, controllerutil.RemoveFinalizer); client.IgnoreNotFound(err) != nil {
		return requeueOnConflict(r.Config, fmt.Errorf("remove finalizer: %w", err))
	}
	return ctrl.Result{}, nil
}
