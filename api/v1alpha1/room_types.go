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

// Package v1alpha1 holds the Room API (group roomring.dev): the room's
// venueless configuration as platform teams declare it with kubectl, and the
// status the operator reports. Standalone nodes read the same manifests from
// a YAML file (--rooms).
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// GroupVersion strings of the Room API.
const (
	Group      = "roomring.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
	Kind       = "Room"
)

// Module is one venueless room module (for example livestream.native,
// chat.native); roomring stores and serves its config untouched.
type Module struct {
	// Type is the venueless module type.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Type string `json:"type"`
	// Config is the module's configuration, passed to clients as is.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	Config *runtime.RawExtension `json:"config,omitempty"`
}

// TraitEntries are the entries a user must satisfy to hold a role: each is
// a trait, or traits joined by '|' (any one of them); 1-200 characters.
// +kubebuilder:validation:MaxItems=32
// +kubebuilder:validation:items:MinLength=1
// +kubebuilder:validation:items:MaxLength=200
type TraitEntries []string

// RoomSpec is a room's configuration.
// +kubebuilder:validation:XValidation:rule="has(self.id) == has(oldSelf.id) && (!has(self.id) || self.id == oldSelf.id)",message="spec.id is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.world) == has(oldSelf.world) && (!has(self.world) || self.world == oldSelf.world)",message="spec.world is immutable"
type RoomSpec struct {
	// World is the name of the World (in the Room's namespace) the room
	// belongs to; unset: the pool's default world. Immutable. Room ids are
	// unique across the pool, whatever their worlds (venueless' ids are
	// too).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	World string `json:"world,omitempty"`

	// ID is the protocol room id when it differs from metadata.name (ids such
	// as room_1 are not valid Kubernetes names): 1-64 characters, letters,
	// digits, '_', '.' and '-', starting with a letter or digit. Immutable.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_.-]*$`
	ID string `json:"id,omitempty"`

	// DisplayName is the room's name as attendees see it: 1-200 characters,
	// not only blanks.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:XValidation:rule="self.trim().size() > 0",message="spec.displayName must not be blank"
	DisplayName string `json:"displayName"`

	// Description is shown under the room's name.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Description string `json:"description,omitempty"`

	// Picture is a URL of the room's picture.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	Picture string `json:"picture,omitempty"`

	// SortingPriority orders rooms in clients' navigation (ascending).
	// +optional
	// +kubebuilder:default=0
	SortingPriority int32 `json:"sortingPriority,omitempty"`

	// Modules are the room's venueless modules.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Modules []Module `json:"modules,omitempty"`

	// TraitGrants maps a role (viewer, moderator, admin, …) to the traits a
	// user needs to hold it in this room. Each entry must be satisfied; an
	// entry "a|b" is satisfied by either trait; an empty list grants the role
	// to everyone. Roles and traits are 1-64 characters; at most 32 roles of
	// at most 32 entries each.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(role, role.size() > 0 && role.size() <= 64)",message="spec.traitGrants: role names must be 1-64 characters"
	TraitGrants map[string]TraitEntries `json:"traitGrants,omitempty"`

	// Reactions is the set of emoji accepted by room.react: one to five of
	// 👏 ❤️ 👍 🤣 😮, each at most once. Default (field omitted): all five.
	// An empty list is refused: a room cannot turn reactions off, and the
	// pool would serve the five defaults for it. The list is atomic: an
	// apply replaces it as a whole (server-side apply narrows it).
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="spec.reactions must not repeat an emoji"
	// +kubebuilder:validation:items:Enum="👏";"❤️";"👍";"🤣";"😮"
	// +kubebuilder:default={"👏","❤️","👍","🤣","😮"}
	Reactions []string `json:"reactions,omitempty"`

	// Viewers turns the viewer list (room:viewers) on or off for this room.
	// +optional
	// +kubebuilder:default=true
	Viewers *bool `json:"viewers,omitempty"`

	// AnonymousInvites allows anonymous invite links for this room.
	// +optional
	// +kubebuilder:default=true
	AnonymousInvites *bool `json:"anonymousInvites,omitempty"`

	// ForceJoin makes clients join the room automatically.
	// +optional
	ForceJoin bool `json:"forceJoin,omitempty"`

	// PretalxID links the room to a pretalx room (venueless pretalx_id; 0:
	// none).
	// +optional
	// +kubebuilder:validation:Minimum=0
	PretalxID int32 `json:"pretalxId,omitempty"`

	// ScheduleData is the room's current schedule data: only the keys
	// session (a string or an integer), title (a string) and computeSession
	// (a boolean). The Go type stays raw JSON (the node passes it through);
	// its schema comes from scheduledata.schema.yaml (make manifests), as
	// CEL cannot see the fields of a schemaless object.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	ScheduleData *runtime.RawExtension `json:"scheduleData,omitempty"`
}

// RoomStatus is what the operator observed of the room on the pool.
type RoomStatus struct {
	// RoomID is the protocol id the Room claims: spec.id, else
	// metadata.name.
	// +optional
	RoomID string `json:"roomId,omitempty"`
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// OwnerNode is the node that owns the room's soft state.
	// +optional
	OwnerNode string `json:"ownerNode,omitempty"`
	// Viewers is the number of distinct users in the room (0 while the
	// pool's answer is unknown).
	// +optional
	Viewers int32 `json:"viewers"`
	// Phase is a one-word summary: Pending, Ready, Invalid, Conflict,
	// Deleting.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Conditions: Ready, Placed, DuplicateID.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rm,categories=roomring
// +kubebuilder:printcolumn:name="Room ID",type=string,JSONPath=`.status.roomId`,description="the protocol room id (spec.id, else the name)"
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,description="why the Room is (not) Ready"
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.status.ownerNode`
// +kubebuilder:printcolumn:name="Viewers",type=integer,JSONPath=`.status.viewers`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Generation",type=integer,JSONPath=`.metadata.generation`,priority=1
// +kubebuilder:printcolumn:name="Observed",type=integer,JSONPath=`.status.observedGeneration`,priority=1,description="the generation the status describes"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec.id) || self.metadata.name.size() <= 64",message="metadata.name is the room id when spec.id is unset and must then be at most 64 characters; set spec.id"

// Room is a room of the event, served by the node pool.
type Room struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RoomSpec   `json:"spec"`
	Status RoomStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RoomList contains a list of Room.
type RoomList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Room `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Room{}, &RoomList{})
}

// WorldID is the id of the world the room belongs to: spec.world, or
// DefaultWorld.
func (r *Room) WorldID() string {
	if r.Spec.World != "" {
		return r.Spec.World
	}
	return DefaultWorld
}

// RoomID is the protocol id of the room: spec.id, or metadata.name.
func (r *Room) RoomID() string {
	if r.Spec.ID != "" {
		return r.Spec.ID
	}
	return r.Name
}
