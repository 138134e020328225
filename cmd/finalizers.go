package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/controllers"
	"github.com/roomring/roomring/node/kube"
)

// runReleaseFinalizers is `roomring operator release-finalizers`: it removes
// the operator's finalizer (v1alpha1.Finalizer) from every Room and World of
// one namespace, so that once no operator runs them, their namespace and the
// CRDs can still be deleted. The chart's post-delete hook runs it after helm
// uninstall (docs/operator.md, "Teardown"). With --lease it first waits until
// the operator's leader Lease is released or expired, so a stopping operator
// cannot put a finalizer back; it then ends once the Rooms and Worlds stayed
// free of the finalizer for --settle. With --claim-holder it stops, releasing
// no more, once another operator holds a live claim on the namespace (another
// release serves its Rooms: docs/operator.md, "Two operators, one
// namespace"). Only metadata.finalizers is patched (with the object's
// resourceVersion): the spec is never written.
func runReleaseFinalizers(args []string) error {
	fs := flag.NewFlagSet("operator release-finalizers", flag.ContinueOnError)
	namespace := fs.String("namespace", "", "namespace of the Rooms and Worlds (required)")
	lease := fs.String("lease", "", "the operator's leader election Lease: wait until nobody holds it (empty: do not wait)")
	leaseNS := fs.String("lease-namespace", "", "namespace of --lease (default: --namespace)")
	settle := fs.Duration("settle", 5*time.Second, "how long the Rooms and Worlds must stay free of the finalizer before the command ends")
	holder := fs.String("claim-holder", "", "the stopped operator's --namespace-claim-holder: when another operator holds the claim on --namespace, it serves the Rooms and Worlds and their finalizers stay (empty: do not check)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *namespace == "" {
		return errors.New("release-finalizers: --namespace is required")
	}
	if *leaseNS == "" {
		*leaseNS = *namespace
	}
	rc, err := kube.RESTConfig(*kubeconfig)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := errors.Join(v1alpha1.AddToScheme(scheme), coordinationv1.AddToScheme(scheme)); err != nil {
		return fmt.Errorf("release-finalizers: scheme: %w", err)
	}
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("release-finalizers: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *lease != "" {
		if err := waitLeaseFree(ctx, c, client.ObjectKey{Namespace: *leaseNS, Name: *lease}); err != nil {
			return fmt.Errorf("release-finalizers: %w", err)
		}
	}
	total, quietSince := 0, time.Now()
	for {
		if other, err := claimedByOther(ctx, c, *namespace, *holder); err != nil {
			return fmt.Errorf("release-finalizers: %w", err)
		} else if other != "" {
			fmt.Printf("namespace %s is served by operator %q: its Rooms keep their finalizers (%d released before it took over)\n", *namespace, other, total)
			return nil
		}
		n, err := releaseOnce(ctx, c, *namespace)
		if err != nil {
			return fmt.Errorf("release-finalizers: %w", err)
		}
		if total += n; n > 0 {
			quietSince = time.Now()
		}
		if time.Since(quietSince) >= *settle {
			fmt.Printf("released the finalizer of %d Room(s) and World(s) in namespace %s\n", total, *namespace)
			return nil
		}
		if err := pause(ctx, time.Second); err != nil {
			return fmt.Errorf("release-finalizers: %d released so far: %w", total, err)
		}
	}
}

// releaseOnce removes the finalizer from the Rooms and Worlds that have it
// and returns how many it found; an object changed or deleted meanwhile is
// left to the next pass.
func releaseOnce(ctx context.Context, c client.Client, namespace string) (int, error) {
	var rooms v1alpha1.RoomList
	if err := c.List(ctx, &rooms, client.InNamespace(namespace)); err != nil {
		return 0, fmt.Errorf("list rooms: %w", err)
	}
	var worlds v1alpha1.WorldList
	// A cluster whose CRDs predate Worlds has none to release.
	if err := c.List(ctx, &worlds, client.InNamespace(namespace)); err != nil && !meta.IsNoMatchError(err) {
		return 0, fmt.Errorf("list worlds: %w", err)
	}
	objs := make([]client.Object, 0, len(rooms.Items)+len(worlds.Items))
	for i := range rooms.Items {
		objs = append(objs, &rooms.Items[i])
	}
	for i := range worlds.Items {
		objs = append(objs, &worlds.Items[i])
	}
	found := 0
	for _, o := range objs {
		if !controllerutil.ContainsFinalizer(o, v1alpha1.Finalizer) {
			continue
		}
		found++
		base, ok := o.DeepCopyObject().(client.Object)
		if !ok {
			return found, fmt.Errorf("%s: cannot copy %T", o.GetName(), o)
		}
		controllerutil.RemoveFinalizer(o, v1alpha1.Finalizer)
		err := c.Patch(ctx, o, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return found, fmt.Errorf("%T %s: %w", o, o.GetName(), err)
		}
	}
	return found, nil
}

// claimedByOther returns the operator other than holder that holds a live
// claim on namespace (controllers.NamespaceClaimLease), or "" (none, or
// holder is empty: no check).
func claimedByOther(ctx context.Context, c client.Client, namespace, holder string) (string, error) {
	if holder == "" {
		return "", nil
	}
	var l coordinationv1.Lease
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: controllers.NamespaceClaimLease}, &l)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("namespace claim: %w", err)
	}
	if leaseFree(l, time.Now()) || *l.Spec.HolderIdentity == holder {
		return "", nil
	}
	return *l.Spec.HolderIdentity, nil
}

// waitLeaseFree waits until the Lease is missing, has no holder, or was not
// renewed within its duration.
func waitLeaseFree(ctx context.Context, c client.Client, key client.ObjectKey) error {
	for {
		var l coordinationv1.Lease
		err := c.Get(ctx, key, &l)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("lease %s: %w", key, err)
		case leaseFree(l, time.Now()):
			return nil
		}
		if err := pause(ctx, time.Second); err != nil {
			return fmt.Errorf("lease %s still held by %q: %w", key, *l.Spec.HolderIdentity, err)
		}
	}
}

func leaseFree(l coordinationv1.Lease, now time.Time) bool {
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second))
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
