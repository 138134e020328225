package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// resolveSecrets reads the values of the World's spec.jwt.secrets, in
// order, from the Secrets of its namespace. missing says which one could
// not be read (a Secret or a key that does not exist), naming it; it is nil
// when all were read.
func resolveSecrets(ctx context.Context, r client.Reader, w *v1alpha1.World) (values [][]byte, missing error) {
	values = make([][]byte, 0, len(w.Spec.JWT.Secrets))
	read := map[string]*corev1.Secret{}
	for i, ref := range w.Spec.JWT.Secrets {
		s, ok := read[ref.Name]
		if !ok {
			s = &corev1.Secret{}
			err := r.Get(ctx, client.ObjectKey{Namespace: w.Namespace, Name: ref.Name}, s)
			switch {
			case apierrors.IsNotFound(err):
				return nil, fmt.Errorf("spec.jwt.secrets[%d]: Secret %q does not exist", i, ref.Name)
			case err != nil:
				return nil, fmt.Errorf("spec.jwt.secrets[%d]: reading Secret %q: %w", i, ref.Name, err)
			}
			read[ref.Name] = s
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("spec.jwt.secrets[%d]: Secret %q has no key %q", i, ref.Name, ref.Key)
		}
		values = append(values, v)
	}
	return values, nil
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
