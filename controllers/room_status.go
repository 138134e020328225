package controllers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/roomring/roomring/api/adminapi"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/roomring/roomring/api/v1alpha1"
)

// Condition reasons of a Room's status.
const (
	ReasonServing         = "Serving"
	ReasonPlaced          = "Placed"
	ReasonNoOwner         = "NoOwner"
	ReasonNotServed       = "NotServed"
	ReasonPoolUnavailable = "PoolUnavailable"
	// ReasonOwnerUnavailable: a node of the pool answered, but could not
	// reach the room's owner node (the pool's other nodes are up).
	ReasonOwnerUnavailable = "OwnerUnavailable"
	ReasonInvalidSpec      = "InvalidSpec"
	ReasonIDClaimed        = "IDClaimed"
	ReasonIDServedByOther  = "IDServedByOther"
	ReasonUnique           = "Unique"
)

// observation is what one reconcile learned of a Room and of the pool.
type observation struct {
	// claims are the live Rooms claiming the Room's id in precedence order
	// (the Room itself among them); the first is served.
	claims []*v1alpha1.Room
	// invalid is why the catalog rejects the spec (nil: valid).
	invalid error
	// pool is the room as the pool serves it; nil when it does not.
	pool *adminapi.RoomStatus
	// poolErr is why the pool could not be asked (nil: it answered).
	poolErr error
	// ownerErr is why a node that answered could not report the room: it
	// could not reach the room's owner node (nil: it could).
	ownerErr error
	// world is why the Room's World keeps it from the pool (nil: it does
	// not); the pool was not asked.
	world *worldBlock
}

func sameRoom(a, b *v1alpha1.Room) bool { return a.Namespace == b.Namespace && a.Name == b.Name }

func ref(r *v1alpha1.Room) string { return r.Namespace + "/" + r.Name }

// desiredStatus builds the Room's status from what the reconcile observed.
// It is pure: the reconciler writes the result when it differs.
func desiredStatus(room *v1alpha1.Room, obs observation) v1alpha1.RoomStatus {
	st := *room.Status.DeepCopy()
	st.ObservedGeneration = room.Generation
	st.RoomID = room.RoomID()
	gen := room.Generation
	id := room.RoomID()
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: status,
			Reason: reason, Message: oneLine(msg), ObservedGeneration: gen})
	}

	if len(obs.claims) > 1 {
		others := make([]string, 0, len(obs.claims)-1)
		for _, c := range obs.claims {
			if !sameRoom(c, room) {
				others = append(others, ref(c))
			}
		}
		set(v1alpha1.ConditionDuplicateID, metav1.ConditionTrue, ReasonIDClaimed,
			fmt.Sprintf("room id %q is also claimed by %s; the pool serves %s, which claimed it first",
				id, strings.Join(others, ", "), ref(obs.claims[0])))
	} else {
		set(v1alpha1.ConditionDuplicateID, metav1.ConditionFalse, ReasonUnique, fmt.Sprintf("no other Room claims room id %q", id))
	}

	switch {
	case len(obs.claims) > 0 && !sameRoom(obs.claims[0], room):
		st.Phase, st.OwnerNode, st.Viewers = v1alpha1.PhaseConflict, "", 0
		msg := fmt.Sprintf("room id %q is served by Room %s, which claimed it first", id, ref(obs.claims[0]))
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonIDServedByOther, msg)
		set(v1alpha1.ConditionPlaced, metav1.ConditionFalse, ReasonNotServed, msg)
	case obs.world != nil:
		st.Phase, st.OwnerNode, st.Viewers = v1alpha1.PhasePending, "", 0
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, obs.world.reason, obs.world.msg)
		set(v1alpha1.ConditionPlaced, metav1.ConditionFalse, obs.world.reason, obs.world.msg)
	case obs.ownerErr != nil:
		// The viewer count is unknown; the owner stays the last one seen,
		// the node the pool cannot reach, until the ring moves the room.
		st.Phase, st.Viewers = v1alpha1.PhasePending, 0
		reason, msg := ReasonOwnerUnavailable, "the pool cannot reach the room's owner node"
		if st.OwnerNode != "" {
			msg += " " + st.OwnerNode
		}
		set(v1alpha1.ConditionReady, metav1.ConditionUnknown, reason, msg)
		set(v1alpha1.ConditionPlaced, metav1.ConditionUnknown, reason, msg)
	case obs.poolErr != nil:
		// Owner and viewers are unknown: figures from before the outage
		// are not shown as current.
		st.Phase, st.OwnerNode, st.Viewers = v1alpha1.PhasePending, "", 0
		reason, msg := ReasonPoolUnavailable, "no node of the pool can be reached"
		var ae *adminapi.Error
		if errors.As(obs.poolErr, &ae) {
			msg = fmt.Sprintf("the pool failed the request (%d %s)", ae.Status, ae.Code)
		}
		set(v1alpha1.ConditionReady, metav1.ConditionUnknown, reason, msg)
		set(v1alpha1.ConditionPlaced, metav1.ConditionUnknown, reason, msg)
	default:
		placed(&st, obs.pool, set)
		switch {
		case obs.invalid != nil:
			st.Phase = v1alpha1.PhaseInvalid
			set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonInvalidSpec, "the pool rejects the spec: "+obs.invalid.Error())
		case obs.pool == nil:
			st.Phase = v1alpha1.PhasePending
			set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonNotServed, "the pool does not serve the room")
		case obs.pool.Owner == "":
			st.Phase = v1alpha1.PhasePending
			set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonNoOwner, "the pool has no node to own the room")
		default:
			st.Phase = v1alpha1.PhaseReady
			set(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonServing,
				fmt.Sprintf("the pool serves generation %d as room %q", gen, id))
		}
	}
	return st
}

// oneLine folds a message onto one line (joined errors, for instance, hold
// one line per node) and bounds it, so that a condition's message reads in
// kubectl get and describe.
func oneLine(msg string) string {
	const maxLen = 512
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxLen {
		msg = strings.ToValidUTF8(msg[:maxLen-3], "") + "..."
	}
	return msg
}

// placed sets ownerNode, viewers and the Placed condition from the pool's
// answer (nil: the pool does not serve the room).
func placed(st *v1alpha1.RoomStatus, pool *adminapi.RoomStatus, set func(string, metav1.ConditionStatus, string, string)) {
	switch {
	case pool == nil:
		st.OwnerNode, st.Viewers = "", 0
		set(v1alpha1.ConditionPlaced, metav1.ConditionFalse, ReasonNotServed, "the pool does not serve the room")
	case pool.Owner == "":
		st.OwnerNode, st.Viewers = "", 0
		set(v1alpha1.ConditionPlaced, metav1.ConditionFalse, ReasonNoOwner, "the pool has no node to own the room")
	default:
		st.OwnerNode, st.Viewers = pool.Owner, int32(pool.Viewers)
		set(v1alpha1.ConditionPlaced, metav1.ConditionTrue, ReasonPlaced, "owned by node "+pool.Owner)
	}
}

// roomEvent is a Kubernetes Event to record on a Room.
type roomEvent struct {
	typ, reason, msg string
}

// transitions are the Events worth recording for a status change: the
// Room became ready, invalid, conflicting or unreachable, or moved to
// another owner. A status that stays the same records nothing, so the
// periodic refresh does not flood the Room's events.
func transitions(old, cur *v1alpha1.RoomStatus) []roomEvent {
	var out []roomEvent
	oldReady := meta.FindStatusCondition(old.Conditions, v1alpha1.ConditionReady)
	ready := meta.FindStatusCondition(cur.Conditions, v1alpha1.ConditionReady)
	if ready != nil && (oldReady == nil || oldReady.Status != ready.Status || oldReady.Reason != ready.Reason) {
		typ := corev1.EventTypeWarning
		if ready.Status == metav1.ConditionTrue {
			typ = corev1.EventTypeNormal
		}
		out = append(out, roomEvent{typ, ready.Reason, ready.Message})
	}
	oldDup := meta.IsStatusConditionTrue(old.Conditions, v1alpha1.ConditionDuplicateID)
	if dup := meta.FindStatusCondition(cur.Conditions, v1alpha1.ConditionDuplicateID); dup != nil && dup.Status == metav1.ConditionTrue && !oldDup {
		out = append(out, roomEvent{corev1.EventTypeWarning, "DuplicateID", dup.Message})
	}
	if old.OwnerNode != "" && cur.OwnerNode != "" && old.OwnerNode != cur.OwnerNode {
		out = append(out, roomEvent{corev1.EventTypeNormal, "OwnerChanged",
			fmt.Sprintf("owner node changed from %s to %s", old.OwnerNode, cur.OwnerNode)})
	}
	return out
}
