package controllers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// NamespaceClaimLease is the name of the Lease by which an operator claims
// a namespace it watches; NamespaceClaimLabel marks it.
const (
	NamespaceClaimLease = "roomring-namespace-claim"
	NamespaceClaimLabel = "roomring.dev/namespace-claim"
)

// releaseTimeout bounds releasing the claims on shutdown.
const releaseTimeout = 5 * time.Second

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update

// NamespaceClaimer keeps this operator's claim on each namespace it watches:
// a Lease named NamespaceClaimLease in the namespace whose holder is
// Holder, renewed every Duration/3. Leader election makes one replica of an
// operator active; the claims make one operator of several (two releases,
// or two installs) active per namespace, so they do not fight over the
// Rooms' finalizers and status. A Lease another operator holds and renews is
// left alone: this operator refuses the namespace (its Rooms are not
// reconciled; /readyz, an Event on the Lease, a log line and
// roomring_operator_namespace_claimed say so) until the other's claim is
// released or goes unrenewed for its duration, and then takes it over. It
// runs on the elected leader only; on shutdown it releases its claims.
// Start's goroutine is the only one that uses the fields but Claims.
type NamespaceClaimer struct {
	// Client writes Leases; Reader reads them from the API server itself.
	Client client.Client
	Reader client.Reader
	// Cache lists the Rooms to requeue when a namespace is claimed.
	Cache      client.Reader
	Claims     *NamespaceClaims
	Namespaces []string
	Holder     string
	Duration   time.Duration
	Recorder   record.EventRecorder
	Log        logr.Logger
	Resync     chan<- event.GenericEvent

	// seen is the other holder's Lease as last observed, and when it was
	// first observed so: a claim is lapsed when it did not change for its
	// duration on this operator's clock (the clocks need not agree).
	seen map[string]observedLease
}

type observedLease struct {
	version string
	at      time.Time
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (c *NamespaceClaimer) NeedLeaderElection() bool { return true }

// Start claims and renews until ctx ends, then releases the claims.
func (c *NamespaceClaimer) Start(ctx context.Context) error {
	c.seen = map[string]observedLease{}
	tick := time.NewTicker(c.Duration / 3)
	defer tick.Stop()
	for {
		for _, ns := range c.Namespaces {
			c.claim(ctx, ns)
		}
		select {
		case <-ctx.Done():
			c.releaseAll()
			return nil
		case <-tick.C:
		}
	}
}

// claim makes, renews or takes over the claim on ns, or observes another's,
// and records the outcome. An error leaves the last decision standing (a
// claim not renewed goes stale by itself: NamespaceClaims.Held).
func (c *NamespaceClaimer) claim(ctx context.Context, ns string) {
	lease, held, err := c.tryClaim(ctx, ns)
	if err != nil {
		if ctx.Err() == nil {
			c.Log.Error(err, "namespace claim", "namespace", ns)
		}
		return
	}
	holder := ""
	if !held {
		holder = *lease.Spec.HolderIdentity
	}
	if !c.Claims.set(ns, held, holder) {
		return
	}
	if held {
		c.Log.Info("claimed namespace: serving its Rooms", "namespace", ns, "lease", NamespaceClaimLease, "holder", c.Holder)
		c.Recorder.Eventf(lease, corev1.EventTypeNormal, "Claimed", "operator %q serves the Rooms of namespace %s", c.Holder, ns)
		c.requeue(ctx, ns)
		return
	}
	c.Log.Info("refusing namespace: another operator serves its Rooms", "namespace", ns, "lease", NamespaceClaimLease, "holder", holder, "self", c.Holder)
	c.Recorder.Eventf(lease, corev1.EventTypeWarning, "Refused",
		"operator %q also watches namespace %s, whose Rooms operator %q serves: it refuses them until that claim is released or lapses", c.Holder, ns, holder)
}

// tryClaim reads the Lease of ns and writes it when it is absent, this
// operator's, free or lapsed. It returns the Lease and whether this
// operator holds it.
func (c *NamespaceClaimer) tryClaim(ctx context.Context, ns string) (*coordinationv1.Lease, bool, error) {
	var lease coordinationv1.Lease
	err := c.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: NamespaceClaimLease}, &lease)
	now := metav1.NewMicroTime(time.Now())
	secs := int32((c.Duration + time.Second - 1) / time.Second)
	if apierrors.IsNotFound(err) {
		lease = coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: NamespaceClaimLease,
			Labels: map[string]string{NamespaceClaimLabel: "true"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &c.Holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
		if err := c.Client.Create(ctx, &lease); err != nil {
			return nil, false, fmt.Errorf("create Lease %s/%s: %w", ns, NamespaceClaimLease, err)
		}
		return &lease, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get Lease %s/%s: %w", ns, NamespaceClaimLease, err)
	}
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if holder != c.Holder && holder != "" && !c.lapsed(&lease) {
		return &lease, false, nil
	}
	if holder != c.Holder {
		lease.Spec.AcquireTime = &now
		transitions := int32(1)
		if lease.Spec.LeaseTransitions != nil {
			transitions += *lease.Spec.LeaseTransitions
		}
		lease.Spec.LeaseTransitions = &transitions
	}
	lease.Spec.HolderIdentity, lease.Spec.RenewTime, lease.Spec.LeaseDurationSeconds = &c.Holder, &now, &secs
	if err := c.Client.Update(ctx, &lease); err != nil { // a conflict: another wrote first; next round decides
		return nil, false, fmt.Errorf("update Lease %s/%s: %w", ns, NamespaceClaimLease, err)
	}
	delete(c.seen, ns)
	return &lease, true, nil
}

// lapsed reports whether another operator's claim went unrenewed for its
// duration, as observed here.
func (c *NamespaceClaimer) lapsed(lease *coordinationv1.Lease) bool {
	ns, now := lease.Namespace, time.Now()
	seen, ok := c.seen[ns]
	if !ok || seen.version != lease.ResourceVersion {
		c.seen[ns] = observedLease{version: lease.ResourceVersion, at: now}
		return false
	}
	d := c.Duration
	if lease.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	return now.Sub(seen.at) >= d
}

// requeue sends every Room of ns to the Room controller: they were skipped
// while the namespace was not held.
func (c *NamespaceClaimer) requeue(ctx context.Context, ns string) {
	rooms, err := listRooms(ctx, c.Cache, []string{ns})
	if err != nil {
		c.Log.Error(err, "requeue Rooms of a claimed namespace", "namespace", ns)
		return
	}
	for i := range rooms {
		select {
		case c.Resync <- event.GenericEvent{Object: &rooms[i]}:
		case <-ctx.Done():
			return
		}
	}
}

// releaseAll gives up the claims this operator holds, so that another
// operator may take them over at once instead of after their duration.
func (c *NamespaceClaimer) releaseAll() {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	for _, ns := range c.Namespaces {
		if !c.Claims.Held(ns) {
			continue
		}
		var lease coordinationv1.Lease
		if err := c.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: NamespaceClaimLease}, &lease); err != nil {
			c.Log.Error(err, "release namespace claim", "namespace", ns)
			continue
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != c.Holder {
			continue
		}
		empty := ""
		lease.Spec.HolderIdentity = &empty
		if err := c.Client.Update(ctx, &lease); err != nil {
			c.Log.Error(err, "release namespace claim", "namespace", ns)
			continue
		}
		c.Claims.forget(ns)
		c.Log.Info("released namespace claim", "namespace", ns)
	}
}

// serviceAccountNamespace is where a pod finds its own namespace, as the
// leader election does when --leader-election-namespace is not given.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// defaultClaimHolder is the claim holder of an operator given none: the
// leader election Lease when there is one (the replicas of one operator
// share it; its namespace is the pod's when not given), else this process
// (hostname and a random suffix).
func defaultClaimHolder(cfg *ManagerConfig) string {
	if cfg.LeaderElect {
		ns := cfg.LeaderElectionNamespace
		if ns == "" {
			if b, err := os.ReadFile(serviceAccountNamespace); err == nil {
				ns = strings.TrimSpace(string(b))
			}
		}
		if ns == "" {
			return cfg.LeaderElectionID
		}
		return ns + "/" + cfg.LeaderElectionID
	}
	host, err := os.Hostname()
	if err != nil {
		host = "operator"
	}
	return host + "_" + rand.String(8)
}

// addNamespaceClaims adds the NamespaceClaimer of the watched namespaces to
// mgr, with its metric and /readyz check, and returns the claims the Room
// controller and the pool watcher consult. An operator that watches every
// namespace claims none and gets nil.
func addNamespaceClaims(mgr ctrl.Manager, cfg *ManagerConfig, log logr.Logger, resync chan<- event.GenericEvent) (*NamespaceClaims, error) {
	c := cfg.Controllers
	if len(c.Namespaces) == 0 {
		return nil, nil
	}
	holder := c.NamespaceClaimHolder
	if holder == "" {
		holder = defaultClaimHolder(cfg)
	}
	claims := NewNamespaceClaims(c.Namespaces, c.NamespaceClaimDuration)
	if err := registerMetrics(cfg.Registry, claims); err != nil {
		return nil, err
	}
	claimer := &NamespaceClaimer{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Cache: mgr.GetClient(),
		Claims: claims, Namespaces: c.Namespaces, Holder: holder, Duration: c.NamespaceClaimDuration,
		Recorder: mgr.GetEventRecorderFor("roomring-operator"), Log: log.WithName("namespace-claims"), Resync: resync}
	if err := mgr.Add(claimer); err != nil {
		return nil, fmt.Errorf("namespace claimer: %w", err)
	}
	for _, ns := range c.Namespaces {
		if err := mgr.AddReadyzCheck("namespace-claim-"+ns, claims.ReadyCheck(ns)); err != nil {
			return nil, fmt.Errorf("ready check: %w", err)
		}
	}
	return claims, nil
}
