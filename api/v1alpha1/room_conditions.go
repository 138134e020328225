/*
Copyright 2026 The roomring Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"slices"
	"strings"
)

// Condition types of a Room's status.
const (
	// ConditionReady is True when the pool serves the Room's current spec.
	ConditionReady = "Ready"
	// ConditionPlaced is True when the pool's ring placed the room on an
	// owner node (status.ownerNode).
	ConditionPlaced = "Placed"
	// ConditionDuplicateID is True when more than one Room claims the same
	// protocol id; the pool serves the one that claimed it first.
	ConditionDuplicateID = "DuplicateID"
)

// Phases of a Room (status.phase).
const (
	PhasePending  = "Pending"
	PhaseReady    = "Ready"
	PhaseInvalid  = "Invalid"
	PhaseConflict = "Conflict"
	PhaseDeleting = "Deleting"
)

// Finalizer keeps a Room until the pool has closed it.
const Finalizer = "roomring.dev/pool"

// Precedes reports whether r's claim on its protocol id comes before o's.
// When several Rooms claim one id, the pool serves the one that precedes
// all others: the oldest by creation time, then by namespace and name.
func (r *Room) Precedes(o *Room) bool {
	if !r.CreationTimestamp.Equal(&o.CreationTimestamp) {
		return r.CreationTimestamp.Before(&o.CreationTimestamp)
	}
	if c := strings.Compare(r.Namespace, o.Namespace); c != 0 {
		return c < 0
	}
	return r.Name < o.Name
}

// SortClaims sorts Rooms that claim one protocol id so that the one the
// pool serves comes first (see Precedes).
func SortClaims(rooms []*Room) {
	slices.SortFunc(rooms, func(a, b *Room) int {
		switch {
		case a.Precedes(b):
			return -1
		case b.Precedes(a):
			return 1
		}
		return 0
	})
}
