package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/api/adminapi"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/roomring/roomring/api/v1alpha1"
)

func room(name string, created time.Time) *v1alpha1.Room {
	return &v1alpha1.Room{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: 3,
		CreationTimestamp: metav1.NewTime(created)}, Spec: v1alpha1.RoomSpec{ID: "shared", DisplayName: name}}
}

func cond(st v1alpha1.RoomStatus, typ string) string {
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		return "absent"
	}
	return string(c.Status) + "/" + c.Reason
}

func TestDesiredStatus(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := room("a", t0), room("b", t0.Add(time.Second))
	served := &adminapi.RoomStatus{ID: "shared", Owner: "node-1", Viewers: 7}
	for _, tc := range []struct {
		name   string
		r      *v1alpha1.Room
		obs    observation
		phase  string
		ready  string
		placed string
		dup    string
		owner  string
		views  int32
	}{
		{"served", a, observation{claims: []*v1alpha1.Room{a}, pool: served},
			v1alpha1.PhaseReady, "True/Serving", "True/Placed", "False/Unique", "node-1", 7},
		{"winner of a duplicate", a, observation{claims: []*v1alpha1.Room{a, b}, pool: served},
			v1alpha1.PhaseReady, "True/Serving", "True/Placed", "True/IDClaimed", "node-1", 7},
		{"loser of a duplicate", b, observation{claims: []*v1alpha1.Room{a, b}},
			v1alpha1.PhaseConflict, "False/IDServedByOther", "False/NotServed", "True/IDClaimed", "", 0},
		{"pool down", a, observation{claims: []*v1alpha1.Room{a}, poolErr: errors.New("refused")},
			v1alpha1.PhasePending, "Unknown/PoolUnavailable", "Unknown/PoolUnavailable", "False/Unique", "", 0},
		{"owner down", a, observation{claims: []*v1alpha1.Room{a}, ownerErr: &adminapi.Error{Status: 500, Code: adminapi.CodeInternal}},
			v1alpha1.PhasePending, "Unknown/OwnerUnavailable", "Unknown/OwnerUnavailable", "False/Unique", "", 0},
		{"invalid, old config served", a, observation{claims: []*v1alpha1.Room{a}, invalid: errors.New("bad key"), pool: served},
			v1alpha1.PhaseInvalid, "False/InvalidSpec", "True/Placed", "False/Unique", "node-1", 7},
		{"invalid, not served", a, observation{claims: []*v1alpha1.Room{a}, invalid: errors.New("bad key")},
			v1alpha1.PhaseInvalid, "False/InvalidSpec", "False/NotServed", "False/Unique", "", 0},
		{"no owner", a, observation{claims: []*v1alpha1.Room{a}, pool: &adminapi.RoomStatus{ID: "shared"}},
			v1alpha1.PhasePending, "False/NoOwner", "False/NoOwner", "False/Unique", "", 0},
	} {
		st := desiredStatus(tc.r, tc.obs)
		got := []string{st.Phase, cond(st, v1alpha1.ConditionReady), cond(st, v1alpha1.ConditionPlaced), cond(st, v1alpha1.ConditionDuplicateID), st.OwnerNode}
		want := []string{tc.phase, tc.ready, tc.placed, tc.dup, tc.owner}
		if strings.Join(got, " ") != strings.Join(want, " ") || st.Viewers != tc.views || st.ObservedGeneration != 3 {
			t.Errorf("%s: %v viewers %d gen %d, want %v viewers %d gen 3", tc.name, got, st.Viewers, st.ObservedGeneration, want, tc.views)
		}
		for _, c := range st.Conditions {
			if c.ObservedGeneration != 3 || c.Message == "" {
				t.Errorf("%s: condition %+v lacks generation or message", tc.name, c)
			}
		}
	}
	// While the pool is unreachable, owner and viewers from before the
	// outage are cleared (issue 16: they read as current); while only the
	// owner is, it stays named (the node the pool cannot reach) and the
	// viewers are cleared.
	a.Status = desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, pool: served})
	if st := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, poolErr: errors.New("x")}); st.OwnerNode != "" || st.Viewers != 0 || st.RoomID != "shared" {
		t.Errorf("pool down after ready: owner %q viewers %d id %q, want cleared", st.OwnerNode, st.Viewers, st.RoomID)
	}
	st := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, ownerErr: errors.New("x")})
	if st.OwnerNode != "node-1" || st.Viewers != 0 || !strings.HasSuffix(meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady).Message, "node-1") {
		t.Errorf("owner down after ready: owner %q viewers %d %+v, want node-1 named, viewers cleared", st.OwnerNode, st.Viewers, st.Conditions)
	}
}

func TestConditionMessagesOneLine(t *testing.T) {
	a := room("a", time.Now())
	perNode := errors.Join(errors.New("GET 10.0.0.1:9091: refused"), errors.New("GET 10.0.0.2:9091: refused"))
	for _, obs := range []observation{
		{poolErr: perNode},
		{poolErr: &adminapi.Error{Status: 503, Code: "x", Message: "a\nb"}},
		{invalid: errors.New("line one\nline two")},
	} {
		obs.claims = []*v1alpha1.Room{a}
		st := desiredStatus(a, obs)
		for _, c := range st.Conditions {
			if strings.Contains(c.Message, "\n") || strings.Contains(c.Message, "10.0.0.") {
				t.Errorf("condition %s message %q: want one line without per-node errors", c.Type, c.Message)
			}
		}
		a.Status = st
		if again := desiredStatus(a, obs); !equality.Semantic.DeepEqual(again, st) {
			t.Errorf("status differs between two reconciles of one observation")
		}
	}
	if got := oneLine(strings.Repeat("é", 600)); len(got) > 512 || !strings.HasSuffix(got, "...") {
		t.Errorf("oneLine of a long message: %d bytes", len(got))
	}
}

func TestTransitions(t *testing.T) {
	a := room("a", time.Now())
	served := &adminapi.RoomStatus{ID: "shared", Owner: "node-1"}
	ready := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, pool: served})
	reasons := func(es []roomEvent) string {
		var out []string
		for _, e := range es {
			out = append(out, e.typ+"/"+e.reason)
		}
		return strings.Join(out, ",")
	}
	if got := reasons(transitions(&a.Status, &ready)); got != "Normal/Serving" {
		t.Errorf("pending → ready: %s", got)
	}
	a.Status = ready
	again := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, pool: served})
	if got := reasons(transitions(&a.Status, &again)); got != "" {
		t.Errorf("no change recorded %s", got)
	}
	moved := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, pool: &adminapi.RoomStatus{ID: "shared", Owner: "node-2"}})
	if got := reasons(transitions(&a.Status, &moved)); got != "Normal/OwnerChanged" {
		t.Errorf("owner change: %s", got)
	}
	b := room("b", time.Now().Add(-time.Hour))
	lost := desiredStatus(a, observation{claims: []*v1alpha1.Room{b, a}})
	if got := reasons(transitions(&a.Status, &lost)); got != "Warning/IDServedByOther,Warning/DuplicateID" {
		t.Errorf("duplicate: %s", got)
	}
	down := desiredStatus(a, observation{claims: []*v1alpha1.Room{a}, poolErr: errors.New("x")})
	if got := reasons(transitions(&a.Status, &down)); got != "Warning/PoolUnavailable" {
		t.Errorf("pool down: %s", got)
	}
}
