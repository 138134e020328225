// Package controllers holds the operator's reconcilers: the Room controller
// pushes every Room onto the node pool through the pool's admin API
// (node/admin) and keeps its status current; the World controller pushes
// every World with its JWT keys read from Secrets, counts its connections
// over the pool and gates its Rooms; the pool watcher requeues all Rooms
// when the pool's membership changes and closes rooms no Room claims and
// worlds no World names.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/manifest"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/roomring/roomring/api/v1alpha1"
)

// Pool is the node pool as the operator reaches it: its admin API
// (*poolclient.Client).
type Pool interface {
	Room(ctx context.Context, id string) (adminapi.RoomStatus, error)
	PutRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error)
	ReplaceRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error)
	DeleteRoom(ctx context.Context, id string) error
	Rooms(ctx context.Context) ([]string, error)
	Endpoints(ctx context.Context) ([]string, error)
	PoolAt(ctx context.Context, addr string) (adminapi.PoolStatus, error)
	Worlds(ctx context.Context) ([]string, error)
	WorldPool
}

// RoomReconciler reconciles Rooms onto the pool.
type RoomReconciler struct {
	client.Client
	// APIReader reads from the API server itself, past the cache.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  record.EventRecorder
	Pool      Pool
	Config    Config
	// Resync delivers a Room to reconcile out of band (the pool watcher's
	// requeue on membership changes).
	Resync <-chan event.GenericEvent
	// Claims are the namespaces this operator may serve (nil: all); the
	// Rooms of the others are left to the operator that claimed them.
	Claims *NamespaceClaims
}

// +kubebuilder:rbac:groups=roomring.dev,resources=rooms,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=roomring.dev,resources=rooms/status,verbs=get;update
// +kubebuilder:rbac:groups=roomring.dev,resources=rooms/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile pushes the Room to the pool unless the pool serves it already,
// and writes what the pool reports into the Room's status. It runs again
// after Config.StatusInterval to keep the viewer count and owner current.
func (r *RoomReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	if !r.Claims.Held(req.Namespace) {
		return ctrl.Result{}, nil // requeued when claimed (NamespaceClaimer)
	}
	var room v1alpha1.Room
	if err := r.Get(ctx, req.NamespacedName, &room); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !room.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &room)
	}
	if err := r.patchFinalizer(ctx, &room, controllerutil.AddFinalizer); err != nil {
		return r.requeueOnConflict(fmt.Errorf("add finalizer: %w", err))
	}

	id := room.RoomID()
	all, err := claims(ctx, r.Client, id)
	if err != nil {
		return ctrl.Result{}, err
	}
	obs := observation{claims: all}
	if len(all) == 0 || sameRoom(all[0], &room) {
		if obs.world, err = r.blockedByWorld(ctx, &room); err != nil {
			return ctrl.Result{}, err
		}
		if obs.world == nil {
			switch r.sync(ctx, &room, &obs) {
			case syncGone:
				return ctrl.Result{}, nil // its deletion is the next event
			case syncAgain:
				// The room was closed after sync read it (a websocket
				// room.delete deletes the Room first), or the cache is
				// behind the Room: look again soon, when the Room's
				// deletion or a fresh read decides.
				return ctrl.Result{RequeueAfter: r.Config.ConflictRequeueDelay}, nil
			}
		}
	}

	status := desiredStatus(&room, obs)
	for _, e := range transitions(&room.Status, &status) {
		r.Recorder.Event(&room, e.typ, e.reason, e.msg)
	}
	if !equality.Semantic.DeepEqual(room.Status, status) {
		room.Status = status
		if err := r.Status().Update(ctx, &room); err != nil {
			return r.requeueOnConflict(fmt.Errorf("update status: %w", err))
		}
		log.V(1).Info("status updated", "phase", status.Phase, "owner", status.OwnerNode, "viewers", status.Viewers)
	}
	return ctrl.Result{RequeueAfter: r.Config.StatusInterval}, nil
}

// syncOutcome is how sync ended.
type syncOutcome int

const (
	// synced: obs holds what the pool reported (or why it could not).
	synced syncOutcome = iota
	// syncGone: the Room turned out to be deleted; nothing was pushed.
	syncGone
	// syncAgain: what sync read is out of date and nothing was pushed (the
	// room the pool served when sync read it was closed before the push
	// replaced it, or the Room has a newer spec than the cache): reconcile
	// again shortly.
	syncAgain
)

// sync makes the pool serve the Room's spec: it reads the room from the
// pool and pushes the spec when the pool lacks it or serves another
// configuration (a new generation, or a node that restarted with an old
// one). A room the pool served is only replaced, never reopened
// (ReplaceRoom): a push that raced the room's deletion would otherwise
// bring it back, and the clients would hear of the deletion twice.
func (r *RoomReconciler) sync(ctx context.Context, room *v1alpha1.Room, obs *observation) syncOutcome {
	id := room.RoomID()
	desired, invalid := manifest.FromSpec(id, &room.Spec)
	cur, err := r.Pool.Room(ctx, id)
	var ae *adminapi.Error
	switch {
	case err == nil:
		obs.pool = &cur
	case errors.As(err, &ae) && ae.Status >= http.StatusInternalServerError:
		// A node answered; the one thing a room's GET fails on is the
		// owner's viewer count: the owner is out of reach.
		logf.FromContext(ctx).Info("the room's owner cannot be reached", "room", id, "err", err)
		obs.ownerErr = err
		return synced
	case !adminapi.IsNotFound(err):
		logf.FromContext(ctx).Info("the pool cannot be reached", "room", id, "err", err)
		obs.poolErr = err
		return synced
	}
	if invalid != nil {
		obs.invalid = invalid
		return synced
	}
	if obs.pool != nil && serves(obs.pool, desired) {
		return synced
	}
	if out := r.recheck(ctx, room); out != synced {
		return out
	}
	push := r.Pool.PutRoom
	if obs.pool != nil {
		push = r.Pool.ReplaceRoom
	}
	st, err := push(ctx, id, &room.Spec)
	switch {
	case adminapi.IsPreconditionFailed(err):
		logf.FromContext(ctx).V(1).Info("room closed since it was read: not reopened", "room", id)
		return syncAgain
	case adminapi.IsInvalid(err):
		obs.invalid = err
	case err != nil:
		logf.FromContext(ctx).Info("pushing the room failed", "room", id, "err", err)
		obs.poolErr = err
	default:
		obs.pool = &st
		r.Recorder.Eventf(room, "Normal", "Pushed", "pushed generation %d to the pool (%s on node %s)", room.Generation, st.Change, st.Node)
	}
	return synced
}

// recheck re-reads the Room from the API server before sync pushes it: the
// cache may be behind a websocket room.delete (the node deletes the Room,
// then closes the room: pushing would reopen it) or a websocket admin
// action that wrote a new spec (the pool holds it already: pushing the
// cached spec would revert it until the next reconcile). It reports
// syncGone for a deleted or replaced Room, syncAgain for a newer
// generation, synced when the push may go on (also when the API server
// cannot be read: the push is what the cache asks for).
func (r *RoomReconciler) recheck(ctx context.Context, room *v1alpha1.Room) syncOutcome {
	if r.APIReader == nil {
		return synced
	}
	var fresh v1alpha1.Room
	err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(room), &fresh)
	switch {
	case apierrors.IsNotFound(err):
		return syncGone
	case err != nil:
		return synced
	case !fresh.DeletionTimestamp.IsZero() || fresh.UID != room.UID:
		return syncGone
	case fresh.Generation != room.Generation:
		return syncAgain
	}
	return synced
}

// requeueOnConflict is requeueOnConflict with the Room controller's Config.
func (r *RoomReconciler) requeueOnConflict(err error) (ctrl.Result, error) {
	return requeueOnConflict(r.Config, err)
}

// requeueOnConflict requeues after cfg.ConflictRequeueDelay when a write
// lost to a newer version of the object (the cache was behind), and returns
// other errors for the controller's backoff.
func requeueOnConflict(cfg Config, err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: cfg.ConflictRequeueDelay}, nil
	}
	return ctrl.Result{}, err
}

// SetupWithManager registers the controller with mgr. The field indexes of
// Room ids and worlds must be registered first (IndexRoomID,
// IndexRoomWorld).
func (r *RoomReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Pool == nil {
		return errors.New("room controller: no pool")
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Room{}).
		Watches(&v1alpha1.Room{}, handler.EnqueueRequestsFromMapFunc(r.sameIDRequests)).
		Watches(&v1alpha1.World{}, handler.EnqueueRequestsFromMapFunc(r.worldRooms), builder.WithPredicates(worldReadinessChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Config.MaxConcurrentReconciles}).
		Named("room")
	if r.Resync != nil {
		b = b.WatchesRawSource(source.Channel(r.Resync, &handler.EnqueueRequestForObject{}))
	}
	return b.Complete(r)
}

// serves reports whether the pool's answer st shows it serving the
// configuration desired.
func serves(st *adminapi.RoomStatus, desired *catalog.Room) bool {
	cur, err := catalog.DecodeRoom(st.Config)
	return err == nil && cur.Equal(desired)
}
