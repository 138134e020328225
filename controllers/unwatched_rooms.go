package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/roomring/roomring/api/v1alpha1"
)

// ReasonUnwatched is the reason of the Warning Event recorded on a Room that
// no operator serves.
const ReasonUnwatched = "Unwatched"

// UnwatchedRoomReporter records a Warning Event on every Room in a namespace
// no roomring operator serves — no live claim Lease (namespace_claim.go) —
// which would otherwise keep a blank status forever. It watches the Rooms
// of every namespace (their metadata only) and the claim Leases, from a
// cache of its own: it needs the cluster-wide rights of
// config/rbac/unwatched_rooms_role.yaml (--report-unwatched-rooms). Rooms
// of the operator's own namespaces are its Room controller's business.
// Reconcile is safe for concurrent use (it only reads the cache).
type UnwatchedRoomReporter struct {
	// Cache holds the Rooms' metadata and the claim Leases of every
	// namespace.
	Cache    client.Reader
	Recorder record.EventRecorder
	// Namespaces are the operator's own.
	Namespaces []string
	// Slack is added to a claim's duration before it counts as lapsed
	// (clocks differ; a renewal may be late).
	Slack time.Duration
}

// Reconcile records the Event on the Room of req when its namespace has no
// live claim, and looks again when a live claim would lapse.
func (r *UnwatchedRoomReporter) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if slices.Contains(r.Namespaces, req.Namespace) {
		return ctrl.Result{}, nil
	}
	var lease coordinationv1.Lease
	err := r.Cache.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: NamespaceClaimLease}, &lease)
	if client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("get the claim Lease of %s: %w", req.Namespace, err)
	}
	if err == nil {
		if left := r.claimLeft(&lease, time.Now()); left > 0 {
			return ctrl.Result{RequeueAfter: left}, nil
		}
	}
	room := roomMeta()
	if err := r.Cache.Get(ctx, req.NamespacedName, room); err != nil || !room.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ref := &v1alpha1.Room{ObjectMeta: metav1.ObjectMeta{Namespace: room.Namespace, Name: room.Name, UID: room.UID,
		ResourceVersion: room.ResourceVersion}}
	r.Recorder.Eventf(ref, corev1.EventTypeWarning, ReasonUnwatched,
		"no roomring operator serves namespace %s (no live Lease %s there): this Room gets no status and no room; apply it in a namespace an operator watches (--watch-namespace), or install a release for %s",
		room.Namespace, NamespaceClaimLease, room.Namespace)
	return ctrl.Result{}, nil
}

// claimLeft is how long the claim of lease stays live from now (0: it is
// released or lapsed).
func (r *UnwatchedRoomReporter) claimLeft(lease *coordinationv1.Lease, now time.Time) time.Duration {
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" || lease.Spec.RenewTime == nil ||
		lease.Spec.LeaseDurationSeconds == nil {
		return 0
	}
	end := lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds)*time.Second + r.Slack)
	return max(end.Sub(now), 0)
}

// roomMeta is an empty Room as metadata only.
func roomMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("Room"))
	return m
}

// addUnwatchedRoomReporter adds the reporter and its cluster-wide cache to
// mgr.
func addUnwatchedRoomReporter(mgr ctrl.Manager, cfg *Config) error {
	c, err := cache.New(mgr.GetConfig(), cache.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&coordinationv1.Lease{}: {Label: labels.SelectorFromSet(labels.Set{NamespaceClaimLabel: "true"})},
		}})
	if err != nil {
		return fmt.Errorf("cluster-wide cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("cluster-wide cache: %w", err)
	}
	r := &UnwatchedRoomReporter{Cache: c, Recorder: mgr.GetEventRecorderFor("roomring-operator"),
		Namespaces: cfg.Namespaces, Slack: cfg.NamespaceClaimDuration}
	roomsOf := func(ctx context.Context, l *coordinationv1.Lease) []reconcile.Request {
		var list metav1.PartialObjectMetadataList
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("RoomList"))
		if err := c.List(ctx, &list, client.InNamespace(l.Namespace)); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, m := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.Namespace, Name: m.Name}})
		}
		return out
	}
	return ctrl.NewControllerManagedBy(mgr).Named("unwatched-rooms").
		WatchesRawSource(source.Kind(c, roomMeta(), &handler.TypedEnqueueRequestForObject[*metav1.PartialObjectMetadata]{})).
		WatchesRawSource(source.Kind(c, &coordinationv1.Lease{}, handler.TypedEnqueueRequestsFromMapFunc(roomsOf))).
		Complete(r)
}
