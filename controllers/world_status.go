package controllers

import (
	"errors"
	"fmt"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/roomring/roomring/api/v1alpha1"
)

// Condition reasons of a World's status besides the Room's (Serving,
// InvalidSpec, IDServedByOther, PoolUnavailable).
const (
	// ReasonSecretMissing: a Secret or key of spec.jwt.secrets does not
	// exist; the world is not pushed.
	ReasonSecretMissing = "SecretMissing"
)

// worldObservation is what one reconcile learned of a World and of the
// pool.
type worldObservation struct {
	// claims are the live Worlds named like this one, in every watched
	// namespace, in precedence order; the first is served.
	claims []*v1alpha1.World
	// secretMissing names the Secret or key that could not be read.
	secretMissing error
	// invalid is why the pool rejects the spec.
	invalid error
	// poolErr is why the pool could not be asked.
	poolErr error
	// pool is the pool's answer to the push; nil when there was none.
	pool *adminapi.WorldStatus
	// census is the world on every member; nil when it could not be taken
	// (the connections stay as they were).
	census *poolclient.WorldCensus
}

// desiredWorldStatus builds the World's status from what the reconcile
// observed. It is pure: the reconciler writes the result when it differs.
func desiredWorldStatus(w *v1alpha1.World, obs worldObservation) v1alpha1.WorldStatus {
	st := *w.Status.DeepCopy()
	st.ObservedGeneration = w.Generation
	set := func(status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: status,
			Reason: reason, Message: oneLine(msg), ObservedGeneration: w.Generation})
	}
	switch {
	case len(obs.claims) > 0 && !sameObject(obs.claims[0], w):
		st.Phase, st.Rooms, st.Connections = v1alpha1.PhaseConflict, 0, 0
		set(metav1.ConditionFalse, ReasonIDServedByOther,
			fmt.Sprintf("world %q is served by World %s, which claimed it first", w.Name, objRef(obs.claims[0])))
	case obs.secretMissing != nil:
		st.Phase, st.Rooms, st.Connections = v1alpha1.PhasePending, 0, 0
		set(metav1.ConditionFalse, ReasonSecretMissing, obs.secretMissing.Error())
	case obs.invalid != nil:
		st.Phase, st.Rooms, st.Connections = v1alpha1.PhaseInvalid, 0, 0
		set(metav1.ConditionFalse, ReasonInvalidSpec, "the pool rejects the spec: "+obs.invalid.Error())
	case obs.poolErr != nil || obs.pool == nil:
		st.Phase, st.Rooms, st.Connections = v1alpha1.PhasePending, 0, 0
		msg := "no node of the pool can be reached"
		var ae *adminapi.Error
		if errors.As(obs.poolErr, &ae) {
			msg = fmt.Sprintf("the pool failed the request (%d %s)", ae.Status, ae.Code)
		}
		set(metav1.ConditionUnknown, ReasonPoolUnavailable, msg)
	default:
		st.Phase, st.Rooms = v1alpha1.PhaseReady, int32(obs.pool.Rooms)
		if obs.census != nil {
			st.Connections = int32(obs.census.Connections())
		}
		set(metav1.ConditionTrue, ReasonServing, fmt.Sprintf("the pool serves generation %d as world %q", w.Generation, w.Name))
	}
	return st
}

// worldTransitions are the Events worth recording for a World's status
// change: it became ready, invalid, conflicting, blocked on a Secret or
// unreachable. A status that stays the same records nothing.
func worldTransitions(old, cur *v1alpha1.WorldStatus) []roomEvent {
	oldReady := meta.FindStatusCondition(old.Conditions, v1alpha1.ConditionReady)
	ready := meta.FindStatusCondition(cur.Conditions, v1alpha1.ConditionReady)
	if ready == nil || oldReady != nil && oldReady.Status == ready.Status && oldReady.Reason == ready.Reason {
		return nil
	}
	typ := corev1.EventTypeWarning
	if ready.Status == metav1.ConditionTrue {
		typ = corev1.EventTypeNormal
	}
	return []roomEvent{{typ, ready.Reason, ready.Message}}
}

// worldReady reports whether the pool serves the World and it is not
// being deleted: Rooms of the world are pushed only then. A new generation
// not reconciled yet does not count against it (the pool serves the
// world; its Rooms would only flap).
func worldReady(w *v1alpha1.World) bool {
	c := meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && w.DeletionTimestamp.IsZero()
}
