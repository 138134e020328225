package controllers_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/v1alpha1"
)

// What GitOps tools do to Rooms, with the real kubectl against the test API
// server: server-side apply owns the spec, the operator writes only its
// finalizer and the status, and the API server refuses invalid Rooms with a
// message that names the field.

func roomYAML(name, spec string) string {
	return "apiVersion: roomring.dev/v1alpha1\nkind: Room\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func serverSideApply(t *testing.T, ns, manifest string) string {
	t.Helper()
	out, err := kubectl(t, ns, manifest, "apply", "--server-side", "--field-manager=gitops", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply --server-side: %v\n%s", err, out)
	}
	return out
}

func reactions(t *testing.T, ns, name string) []string {
	t.Helper()
	r, err := getRoom(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return r.Spec.Reactions
}

func TestServerSideApplyNarrowsReactions(t *testing.T) {
	ns := env.Namespace(t)
	serverSideApply(t, ns, roomYAML("hall", "  displayName: Hall\n"))
	if got := reactions(t, ns, "hall"); strings.Join(got, " ") != "👏 ❤️ 👍 🤣 😮" {
		t.Fatalf("defaulted reactions = %q", got)
	}
	serverSideApply(t, ns, roomYAML("hall", "  displayName: Hall\n  reactions: [\"👏\"]\n"))
	if got := reactions(t, ns, "hall"); strings.Join(got, " ") != "👏" {
		t.Fatalf("reactions after narrowing apply = %q, want [👏]", got)
	}
	// Dropping the field from the manifest brings the defaults back.
	serverSideApply(t, ns, roomYAML("hall", "  displayName: Hall\n"))
	if got := reactions(t, ns, "hall"); len(got) != 5 {
		t.Fatalf("reactions after dropping the field = %q, want the five defaults", got)
	}
}

func TestOperatorLeavesSpecAlone(t *testing.T) {
	// Explicit zero values and empty lists are what a round trip through
	// the Go types (omitempty) would drop.
	ns := env.Namespace(t)
	n := startNode(t, "node-a")
	spec := "  displayName: Hall\n  description: \"\"\n  modules: []\n  forceJoin: false\n  pretalxId: 0\n  reactions: [\"👏\", \"👍\"]\n"
	serverSideApply(t, ns, roomYAML("hall", spec))
	before := mustKubectl(t, ns, "get", "room", "hall", "-o", "jsonpath={.spec}")
	startOperator(t, ns, []string{n.Addr()})
	waitStatus(t, ns, "hall", "ready", ready("node-a"))

	r, err := getRoom(ns, "hall")
	if err != nil {
		t.Fatal(err)
	}
	if r.Generation != 1 || r.Status.ObservedGeneration != 1 {
		t.Errorf("generation %d, observed %d: want 1 (the operator must not write the spec)", r.Generation, r.Status.ObservedGeneration)
	}
	if len(r.Finalizers) != 1 || r.Finalizers[0] != v1alpha1.Finalizer {
		t.Errorf("finalizers %v", r.Finalizers)
	}
	if after := mustKubectl(t, ns, "get", "room", "hall", "-o", "jsonpath={.spec}"); after != before {
		t.Errorf("spec changed after the reconcile:\nbefore %s\nafter  %s", before, after)
	}
	for _, mf := range r.ManagedFields {
		if mf.Manager == "gitops" || mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(mf.FieldsV1.Raw, &fields); err != nil {
			t.Fatal(err)
		}
		if _, ok := fields["f:spec"]; ok {
			t.Errorf("field manager %q (%s) owns spec fields: %s", mf.Manager, mf.Operation, mf.FieldsV1.Raw)
		}
	}
	// The user's next apply goes through without conflicts.
	serverSideApply(t, ns, roomYAML("hall", strings.Replace(spec, "Hall", "Great Hall", 1)))
}

func TestApplyRefusesInvalidRooms(t *testing.T) {
	ns := env.Namespace(t)
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{long, "  displayName: Long\n", []string{"metadata.name is the room id", "at most 64 characters"}},
		{"long-id", "  id: " + long + "\n  displayName: Long\n", []string{"spec.id", "Too long"}},
		{"blank", "  displayName: \"   \"\n", []string{"spec.displayName must not be blank"}},
		{"sched-key", "  displayName: S\n  scheduleData: {speaker: x}\n", []string{`unknown field "spec.scheduleData.speaker"`}},
		{"sched-title", "  displayName: S\n  scheduleData: {title: 5}\n", []string{"spec.scheduleData.title", "must be of type string"}},
		{"sched-session", "  displayName: S\n  scheduleData: {session: true}\n", []string{"spec.scheduleData.session", "must be of type integer"}},
		{"sched-compute", "  displayName: S\n  scheduleData: {computeSession: \"yes\"}\n", []string{"spec.scheduleData.computeSession", "must be of type boolean"}},
		{"empty-role", "  displayName: S\n  traitGrants: {\"\": [staff]}\n", []string{"spec.traitGrants: role names must be 1-64 characters"}},
		{"empty-trait", "  displayName: S\n  traitGrants: {moderator: [\"\"]}\n", []string{"spec.traitGrants.moderator[0]", "at least 1 chars long"}},
		{"no-reactions", "  displayName: S\n  reactions: []\n", []string{"spec.reactions", "at least 1 items"}},
		{"twice", "  displayName: S\n  reactions: [\"👏\", \"👏\"]\n", []string{"spec.reactions must not repeat an emoji"}},
	} {
		out, err := kubectl(t, ns, roomYAML(tc.name, tc.spec), "apply", "-f", "-")
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Errorf("%s: kubectl apply accepted it: %v\n%s", tc.name, err, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: kubectl apply output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
	// What the rules allow passes.
	ok := "  id: " + strings.Repeat("b", 64) + "\n  displayName: Fine\n  traitGrants: {viewer: [], moderator: [\"speaker|host\", staff]}\n" +
		"  scheduleData: {session: 12, title: Opening, computeSession: true}\n  reactions: [\"😮\"]\n"
	mustApply(t, ns, roomYAML(strings.Repeat("c", 64), ok))
	mustApply(t, ns, roomYAML("string-session", "  displayName: S\n  scheduleData: {session: \"s-1\"}\n"))
}

func mustApply(t *testing.T, ns, manifest string) {
	t.Helper()
	if out, err := kubectl(t, ns, manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

func TestExplainShowsLimits(t *testing.T) {
	ns := env.Namespace(t)
	out := mustKubectl(t, ns, "explain", "room.spec.reactions")
	for _, w := range []string{"👏 ❤️ 👍 🤣 😮", "Default (field omitted): all five", "at most once", "empty list is refused"} {
		if !strings.Contains(out, w) {
			t.Errorf("kubectl explain room.spec.reactions lacks %q:\n%s", w, out)
		}
	}
	out = mustKubectl(t, ns, "explain", "room.spec.scheduleData")
	if !strings.Contains(out, "computeSession") {
		t.Errorf("kubectl explain room.spec.scheduleData:\n%s", out)
	}
}
