package controllers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/roomring/roomring/api/v1alpha1"
)

// TestSecretCache: a Secret is read from the API server once per
// resourceVersion; the values follow an update; a deleted Secret is
// missing, and so is a key; resolveSecrets keeps spec.jwt.secrets' order.
func TestSecretCache(t *testing.T) {
	ctx := context.Background()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "jwt"},
		Data: map[string][]byte{"a": []byte("one"), "b": []byte("two")}}
	meta := fake.NewClientBuilder().WithScheme(NewScheme()).WithObjects(s).Build()
	var reads atomic.Int32
	api := interceptor.NewClient(meta.(client.WithWatch), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				reads.Add(1)
			}
			return c.Get(ctx, key, obj, opts...)
		}})
	cache := &secretCache{Meta: meta, API: api}
	w := &v1alpha1.World{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "expo"}}
	w.Spec.JWT.Secrets = []v1alpha1.SecretKeyRef{{Name: "jwt", Key: "b"}, {Name: "jwt", Key: "a"}}

	resolve := func(want string) {
		t.Helper()
		vals, missing := resolveSecrets(ctx, cache, w)
		var got []string
		for _, v := range vals {
			got = append(got, string(v))
		}
		if missing != nil {
			got = append(got, missing.Error())
		}
		if strings.Join(got, ",") != want {
			t.Fatalf("resolveSecrets = %q, want %q", strings.Join(got, ","), want)
		}
	}
	resolve("two,one")
	resolve("two,one")
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads of the Secret for one resourceVersion, want 1", n)
	}

	s.Data["a"] = []byte("uno")
	if err := meta.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	resolve("two,uno")
	if n := reads.Load(); n != 2 {
		t.Fatalf("%d reads after an update, want 2", n)
	}

	w.Spec.JWT.Secrets = append(w.Spec.JWT.Secrets, v1alpha1.SecretKeyRef{Name: "jwt", Key: "c"})
	resolve(`spec.jwt.secrets[2]: Secret "jwt" has no key "c"`)
	if err := meta.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	resolve(`spec.jwt.secrets[0]: Secret "jwt" does not exist`)
	if _, err := cache.secretData(ctx, client.ObjectKeyFromObject(s)); !apierrors.IsNotFound(err) {
		t.Fatalf("deleted Secret: %v", err)
	}
	if len(cache.data) != 0 {
		t.Fatalf("a deleted Secret's data kept: %v", cache.data)
	}
}
