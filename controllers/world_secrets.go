package controllers

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/roomring/roomring/api/v1alpha1"
)

// WorldSecretField indexes Worlds by the names of the Secrets their
// spec.jwt.secrets reference, so that a change of a Secret requeues the
// Worlds that use it, and no others.
const WorldSecretField = ".spec.jwt.secretNames"

// IndexWorldSecrets is the indexer of WorldSecretField.
func IndexWorldSecrets(obj client.Object) []string {
	w, ok := obj.(*v1alpha1.World)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(w.Spec.JWT.Secrets))
	for _, s := range w.Spec.JWT.Secrets {
		out = append(out, s.Name)
	}
	return out
}

// secretSource returns the data of a Secret; an error satisfying
// apierrors.IsNotFound when it does not exist.
type secretSource interface {
	secretData(ctx context.Context, key client.ObjectKey) (map[string][]byte, error)
}

// resolveSecrets reads the values of the World's spec.jwt.secrets, in
// order, from the Secrets of its namespace. missing says which one could
// not be read (a Secret or a key that does not exist), naming it; it is nil
// when all were read.
func resolveSecrets(ctx context.Context, src secretSource, w *v1alpha1.World) (values [][]byte, missing error) {
	values = make([][]byte, 0, len(w.Spec.JWT.Secrets))
	for i, ref := range w.Spec.JWT.Secrets {
		data, err := src.secretData(ctx, client.ObjectKey{Namespace: w.Namespace, Name: ref.Name})
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("spec.jwt.secrets[%d]: Secret %q does not exist", i, ref.Name)
		case err != nil:
			return nil, fmt.Errorf("spec.jwt.secrets[%d]: reading Secret %q: %w", i, ref.Name, err)
		}
		v, ok := data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("spec.jwt.secrets[%d]: Secret %q has no key %q", i, ref.Name, ref.Key)
		}
		values = append(values, v)
	}
	return values, nil
}

// secretCache is the secretSource of the World controller: it keeps the
// data of the Secrets Worlds reference, each with the resourceVersion it
// was read at, and reads a Secret from the API server (API) only when the
// manager's metadata cache (Meta, fed by the controller's metadata-only
// watch of Secrets) shows another resourceVersion. So the periodic
// reconcile reads no Secret from the API server (nor fills its audit log)
// while nothing changes, and no Secret the Worlds do not reference is ever
// read. Its methods are safe for concurrent use.
type secretCache struct {
	Meta, API client.Reader

	mu   sync.Mutex
	data map[client.ObjectKey]cachedSecret
}

type cachedSecret struct {
	resourceVersion string
	data            map[string][]byte
}

func (c *secretCache) secretData(ctx context.Context, key client.ObjectKey) (map[string][]byte, error) {
	var m metav1.PartialObjectMetadata
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Meta.Get(ctx, key, &m); err != nil {
		if apierrors.IsNotFound(err) {
			c.forget(key)
		}
		return nil, err
	}
	c.mu.Lock()
	cached, ok := c.data[key]
	c.mu.Unlock()
	if ok && cached.resourceVersion == m.ResourceVersion {
		return cached.data, nil
	}
	var s corev1.Secret
	if err := c.API.Get(ctx, key, &s); err != nil {
		if apierrors.IsNotFound(err) {
			c.forget(key)
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		c.data = map[client.ObjectKey]cachedSecret{}
	}
	c.data[key] = cachedSecret{resourceVersion: s.ResourceVersion, data: s.Data}
	return s.Data, nil
}

func (c *secretCache) forget(key client.ObjectKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.data, key)
}

// secretRequests maps a Secret to the Worlds of its namespace that
// reference it: a rotation (a key added or changed) pushes them again, and
// a Secret created late unblocks them.
func (r *WorldReconciler) secretRequests(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.WorldList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{WorldSecretField: obj.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
