package controllers_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// `roomring operator release-finalizers` as a process, with no operator
// running: it removes the operator's finalizer from the Rooms and Worlds of
// its namespace, and from nothing else.
func TestReleaseFinalizersProcess(t *testing.T) {
	bin := nodeproc.Binary(t)
	ns, other := env.Namespace(t), env.Namespace(t)
	held := func(o client.Object) client.Object {
		controllerutil.AddFinalizer(o, v1alpha1.Finalizer)
		return o
	}
	create(t, held(newRoom(ns, "hall", "", "Hall")))
	create(t, held(newWorld(ns, "expo", "Expo", "jwt", "k")))
	create(t, held(newWorld(other, "expo", "Expo", "jwt", "k")))

	out, err := exec.Command(bin, "operator", "release-finalizers", "--kubeconfig", env.Kubeconfig,
		"--namespace", ns, "--settle", "1s", "--timeout", "30s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "released the finalizer of 2 Room(s) and World(s) in namespace "+ns) {
		t.Fatalf("release-finalizers: %v\n%s", err, out)
	}
	r, err := getRoom(ns, "hall")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := getWorld(ns, "expo")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{r, wd} {
		if controllerutil.ContainsFinalizer(o, v1alpha1.Finalizer) {
			t.Errorf("%T %s keeps the finalizer", o, o.GetName())
		}
	}
	w, err := getWorld(other, "expo")
	if err != nil || !controllerutil.ContainsFinalizer(w, v1alpha1.Finalizer) {
		t.Fatalf("the World of another namespace lost its finalizer: %v %v", w.Finalizers, err)
	}
	controllerutil.RemoveFinalizer(w, v1alpha1.Finalizer)
	if err := env.Client.Update(context.Background(), w); err != nil {
		t.Fatal(err)
	}
}
