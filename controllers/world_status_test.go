package controllers

import (
	"errors"
	"testing"
	"time"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/roomring/roomring/api/v1alpha1"
)

func world(ns string, created time.Time) *v1alpha1.World {
	return &v1alpha1.World{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "expo", Generation: 2,
		CreationTimestamp: metav1.NewTime(created)}, Spec: v1alpha1.WorldSpec{DisplayName: "Expo"}}
}

func TestDesiredWorldStatus(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w, older := world("b", t0), world("a", t0) // same second: namespace a first
	served := &adminapi.WorldStatus{ID: "expo", Rooms: 3, Node: "node-a"}
	census := &poolclient.WorldCensus{Members: []adminapi.WorldStatus{{Connections: 2}, {Connections: 5}}}
	for _, c := range []struct {
		name               string
		obs                worldObservation
		phase, ready, msg  string
		rooms, connections int32
	}{
		{"served", worldObservation{claims: []*v1alpha1.World{w}, pool: served, census: census},
			v1alpha1.PhaseReady, "True/Serving", `the pool serves generation 2 as world "expo"`, 3, 7},
		{"claimed first elsewhere", worldObservation{claims: []*v1alpha1.World{older, w}},
			v1alpha1.PhaseConflict, "False/IDServedByOther", `world "expo" is served by World a/expo, which claimed it first`, 0, 0},
		{"secret missing", worldObservation{claims: []*v1alpha1.World{w}, secretMissing: errors.New(`spec.jwt.secrets[0]: Secret "s" does not exist`)},
			v1alpha1.PhasePending, "False/SecretMissing", `spec.jwt.secrets[0]: Secret "s" does not exist`, 0, 0},
		{"rejected", worldObservation{claims: []*v1alpha1.World{w}, invalid: &adminapi.Error{Status: 422, Code: "config.invalid", Message: "secret too short"}},
			v1alpha1.PhaseInvalid, "False/InvalidSpec", "the pool rejects the spec: admin API: 422 config.invalid: secret too short", 0, 0},
		{"unreachable", worldObservation{claims: []*v1alpha1.World{w}, poolErr: errors.New("dial tcp: refused")},
			v1alpha1.PhasePending, "Unknown/PoolUnavailable", "no node of the pool can be reached", 0, 0},
		{"pool failed", worldObservation{claims: []*v1alpha1.World{w}, poolErr: &adminapi.Error{Status: 500, Code: "server.error"}},
			v1alpha1.PhasePending, "Unknown/PoolUnavailable", "the pool failed the request (500 server.error)", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := desiredWorldStatus(w, c.obs)
			r := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
			if st.Phase != c.phase || r == nil || string(r.Status)+"/"+r.Reason != c.ready || r.Message != c.msg ||
				st.Rooms != c.rooms || st.Connections != c.connections || st.ObservedGeneration != 2 {
				t.Fatalf("status %+v", st)
			}
			// Pure and deterministic: the same observation again changes nothing.
			w2 := w.DeepCopy()
			w2.Status = st
			if again := desiredWorldStatus(w2, c.obs); !equality.Semantic.DeepEqual(again, st) {
				t.Fatalf("second pass %+v, first %+v", again, st)
			}
		})
	}

	// Connections unknown (the census failed): the last count stays.
	w.Status.Connections = 4
	if st := desiredWorldStatus(w, worldObservation{claims: []*v1alpha1.World{w}, pool: served}); st.Connections != 4 || st.Phase != v1alpha1.PhaseReady {
		t.Fatalf("without a census: %+v", st)
	}
	// Events on transitions only.
	st := desiredWorldStatus(w, worldObservation{claims: []*v1alpha1.World{w}, pool: served})
	if ev := worldTransitions(&w.Status, &st); len(ev) != 1 || ev[0].reason != ReasonServing {
		t.Fatalf("first transition %+v", ev)
	}
	if ev := worldTransitions(&st, &st); len(ev) != 0 {
		t.Fatalf("no change recorded %+v", ev)
	}
}
