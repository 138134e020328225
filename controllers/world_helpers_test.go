package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/nodetest"
)

// Worlds' helpers: Secrets with JWT keys, Worlds referencing them, tokens
// signed with them and clients of a world's endpoint.

// key is a JWT secret of at least 32 bytes, distinct per label.
func key(label string) string { return "world-test-secret-" + label + "-0123456789abcdef" }

func newSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// newWorld is a World whose JWT secrets are keys of Secret secret, where
// everyone views rooms and trait admin administers.
func newWorld(ns, name, display, secret string, keys ...string) *v1alpha1.World {
	w := &v1alpha1.World{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.WorldSpec{DisplayName: display, AllowGuests: true,
			TraitGrants: map[string]v1alpha1.TraitEntries{"viewer": {}, "admin": {"admin"}}}}
	for _, k := range keys {
		w.Spec.JWT.Secrets = append(w.Spec.JWT.Secrets, v1alpha1.SecretKeyRef{Name: secret, Key: k})
	}
	return w
}

func worldRoom(ns, name, world string) *v1alpha1.Room {
	r := newRoom(ns, name, "", strings.ToUpper(name[:1])+name[1:])
	r.Spec.World = world
	return r
}

func getWorld(ns, name string) (*v1alpha1.World, error) {
	var w v1alpha1.World
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &w)
	return &w, err
}

// waitWorldStatus waits until the World's status satisfies check.
func waitWorldStatus(t *testing.T, ns, name, what string, check func(w *v1alpha1.World) error) *v1alpha1.World {
	t.Helper()
	var last *v1alpha1.World
	testkit.EventuallyNil(t, wait, "World "+name+": "+what, func() error {
		w, err := getWorld(ns, name)
		if err != nil {
			return err
		}
		last = w
		return check(w)
	})
	return last
}

// worldIs checks the World's phase and Ready reason at its generation,
// and that the Ready message contains msg.
func worldIs(phase, reason, msg string) func(w *v1alpha1.World) error {
	return func(w *v1alpha1.World) error {
		c := meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionReady)
		if w.Status.ObservedGeneration != w.Generation || w.Status.Phase != phase || c == nil || c.Reason != reason || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("status %+v at generation %d, want %s/%s %q", w.Status, w.Generation, phase, reason, msg)
		}
		return nil
	}
}

// worldCounts checks a Ready World's rooms and connections.
func worldCounts(rooms, conns int32) func(w *v1alpha1.World) error {
	return func(w *v1alpha1.World) error {
		if err := worldIs(v1alpha1.PhaseReady, "Serving", "")(w); err != nil {
			return err
		}
		if w.Status.Rooms != rooms || w.Status.Connections != conns {
			return fmt.Errorf("rooms %d connections %d, want %d and %d", w.Status.Rooms, w.Status.Connections, rooms, conns)
		}
		return nil
	}
}

// roomWaits checks that a Room is Pending for its world with reason.
func roomWaits(reason, msg string) func(r *v1alpha1.Room) error {
	return func(r *v1alpha1.Room) error {
		c := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionReady)
		if r.Status.Phase != v1alpha1.PhasePending || c == nil || c.Reason != reason || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("status %+v, want Pending/%s %q", r.Status, reason, msg)
		}
		return nil
	}
}

// worldURL is the venueless endpoint of world on n.
func worldURL(n *nodetest.Node, world string) string {
	return "ws://" + n.Addr() + "/ws/world/" + world + "/"
}

// signed mints a token for uid with traits, signed with secret.
func signed(t *testing.T, secret, uid string, traits ...string) string {
	t.Helper()
	tok, err := auth.Sign([]byte(secret), uid, traits, map[string]any{"display_name": uid}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// attend connects uid to world on n with a token signed with secret and
// returns the client and its world.config.
func attend(t *testing.T, n *nodetest.Node, world, secret, uid string, traits ...string) (*nodetest.Client, nodetest.WorldConfig) {
	t.Helper()
	c := nodetest.Dial(t, worldURL(n, world))
	a := nodetest.Decode[struct {
		World nodetest.WorldConfig `json:"world.config"`
	}](t, c.Auth(map[string]any{"token": signed(t, secret, uid, traits...)}))
	return c, a.World
}

// refused checks that a token signed with secret is refused on world at n.
func refused(t *testing.T, n *nodetest.Node, world, secret, uid string) {
	t.Helper()
	c := nodetest.Dial(t, worldURL(n, world))
	if code := c.AuthErr(map[string]any{"token": signed(t, secret, uid)}); code != "auth.invalid_token" {
		t.Fatalf("a token signed with another key on world %s: %s, want auth.invalid_token", world, code)
	}
}

func roomIDs(w nodetest.WorldConfig) []string {
	out := make([]string, 0, len(w.Rooms))
	for _, r := range w.Rooms {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// worldEvents returns "Type/Reason: message" of the Events on a World.
func worldEvents(t *testing.T, ns, name string) []string {
	t.Helper()
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.InvolvedObject.Kind == v1alpha1.WorldKind {
			out = append(out, e.Type+"/"+e.Reason+": "+e.Message)
		}
	}
	return out
}

// authCode authenticates a new client of world on n with tok and returns
// "" when it is accepted, else the error code.
func authCode(t *testing.T, n *nodetest.Node, world, tok string) string {
	t.Helper()
	c := nodetest.Dial(t, worldURL(n, world))
	defer c.Close()
	b, _ := json.Marshal([]any{"authenticate", map[string]any{"token": tok}})
	c.SendRaw(string(b))
	f := c.Wait(wait, "authentication answer", func(f nodetest.Frame) bool { return f.Kind() == "authenticated" || f.Kind() == "error" })
	if f.Kind() == "authenticated" {
		return ""
	}
	var e struct{ Code string }
	f.Decode(t, len(f)-1, &e)
	return e.Code
}
