package controllers

import (
	"context"
	"errors"
	"fmt"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/roomring/roomring/api/v1alpha1"
)

// WorldPool is the node pool's world API as the World controller reaches
// it (*poolclient.Client).
type WorldPool interface {
	PutWorld(ctx context.Context, id string, spec *v1alpha1.WorldSpec, secrets [][]byte) (adminapi.WorldStatus, error)
	DeleteWorld(ctx context.Context, id string) error
	DeleteRoom(ctx context.Context, id string) error
	WorldEverywhere(ctx context.Context, id string) (poolclient.WorldCensus, error)
}

// WorldReconciler reconciles Worlds onto the pool: it reads the World's
// JWT secrets from their Secrets, pushes the world, and writes its rooms and
// connections (summed over the pool's members) into the World's status.
// On deletion it closes the world on the pool: its clients are
// disconnected and its rooms closed.
type WorldReconciler struct {
	client.Client
	// APIReader reads Secrets from the API server itself: the manager's
	// cache holds only their metadata (a change of a Secret's data requeues
	// the Worlds that reference it), never their values.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  record.EventRecorder
	Pool      WorldPool
	Config    Config

	secrets secretCache
}

// +kubebuilder:rbac:groups=roomring.dev,resources=worlds,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=roomring.dev,resources=worlds/status,verbs=get;update
// +kubebuilder:rbac:groups=roomring.dev,resources=worlds/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// Reconcile pushes the World, with its secrets' values, to the pool and
// writes what the pool reports into its status. It runs again after
// Config.StatusInterval: the push is repeated (a node that restarted gets
// the world back; an unchanged world changes nothing on the pool) and the
// connections are counted again.
func (r *WorldReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w v1alpha1.World
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &w)
	}
	if err := patchFinalizer(ctx, r.Client, &w, controllerutil.AddFinalizer); err != nil {
		return requeueOnConflict(r.Config, fmt.Errorf("add finalizer: %w", err))
	}
	all, err := worldClaims(ctx, r.Client, w.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	obs := worldObservation{claims: all}
	if len(all) == 0 || sameObject(all[0], &w) {
		r.sync(ctx, &w, &obs)
	}
	status := desiredWorldStatus(&w, obs)
	for _, e := range worldTransitions(&w.Status, &status) {
		r.Recorder.Event(&w, e.typ, e.reason, e.msg)
	}
	if !equality.Semantic.DeepEqual(w.Status, status) {
		w.Status = status
		if err := r.Status().Update(ctx, &w); err != nil {
			return requeueOnConflict(r.Config, fmt.Errorf("update status: %w", err))
		}
		logf.FromContext(ctx).V(1).Info("world status updated", "phase", status.Phase, "rooms", status.Rooms, "connections", status.Connections)
	}
	return ctrl.Result{RequeueAfter: r.Config.StatusInterval}, nil
}

// sync resolves the World's secrets, pushes the world and counts its
// connections on every member, recording what it learned in obs.
func (r *WorldReconciler) sync(ctx context.Context, w *v1alpha1.World, obs *worldObservation) {
	log := logf.FromContext(ctx)
	secrets, missing := resolveSecrets(ctx, &r.secrets, w)
	if missing != nil {
		obs.secretMissing = missing
		return
	}
	st, err := r.Pool.PutWorld(ctx, w.Name, &w.Spec, secrets)
	switch {
	case adminapi.IsInvalid(err):
		obs.invalid = err
		return
	case err != nil:
		log.Info("pushing the world failed", "world", w.Name, "err", err)
		obs.poolErr = err
		return
	}
	obs.pool = &st
	if st.Change != "" && st.Change != "unchanged" {
		r.Recorder.Eventf(w, corev1.EventTypeNormal, "Pushed", "pushed generation %d to the pool (%s on node %s)", w.Generation, st.Change, st.Node)
	}
	census, err := r.Pool.WorldEverywhere(ctx, w.Name)
	if err != nil {
		// The world is served; only its connections are unknown.
		log.Info("counting the world's connections failed", "world", w.Name, "err", err)
		return
	}
	if len(census.Unreachable) > 0 {
		log.Info("members did not answer; their connections are not counted", "world", w.Name, "members", census.Unreachable)
	}
	obs.census = &census
}

// SetupWithManager registers the controller with mgr. The field indexes
// of World names and Secret references must be registered first
// (IndexWorldName, IndexWorldSecrets).
func (r *WorldReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Pool == nil || r.APIReader == nil {
		return errors.New("world controller: no pool or API reader")
	}
	r.secrets.Meta, r.secrets.API = r.Client, r.APIReader
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.World{}).
		Watches(&v1alpha1.World{}, handler.EnqueueRequestsFromMapFunc(r.sameNameRequests)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretRequests), builder.OnlyMetadata).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Config.MaxConcurrentReconciles}).
		Named("world").
		Complete(r)
}
