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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorldKind is the kind of the World resource.
const WorldKind = "World"

// DefaultWorld is the id of the world a Room belongs to when spec.world is
// unset, and the one world of a node started without World manifests.
const DefaultWorld = "default"

// SecretKeyRef names one key of a Secret in the World's namespace.
type SecretKeyRef struct {
	// Name is the Secret's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key is the key within the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// WorldJWT is how a world verifies its attendees' session tokens (JWT,
// HS256). Several secrets may be valid at once, for rotation: a token
// signed with any of them is accepted.
type WorldJWT struct {
	// Secrets are the HS256 secrets, each a key of a Secret in the World's
	// namespace (at least 32 bytes each). The operator reads them and hands
	// them to the pool over the admin API.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	Secrets []SecretKeyRef `json:"secrets"`
	// Issuers, when set, are the accepted "iss" claims (any one of them).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=200
	// +listType=atomic
	Issuers []string `json:"issuers,omitempty"`
	// Audiences, when set, are the accepted "aud" claims (any one of them).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=200
	// +listType=atomic
	Audiences []string `json:"audiences,omitempty"`
}

// WorldQuotas bound what one world may use of the pool, so that one event
// cannot starve the others. Zero or unset: no world-wide bound (the node's
// own limits still apply).
type WorldQuotas struct {
	// Connections bounds the world's concurrent client connections, per
	// node.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Connections int32 `json:"connections,omitempty"`
	// FramesPerSecond bounds the frames the world's clients may send per
	// second, all together, per node.
	// +optional
	// +kubebuilder:validation:Minimum=0
	FramesPerSecond int32 `json:"framesPerSecond,omitempty"`
	// ResourceReactions bounds the resource reactions the world stores, all
	// its rooms on all nodes together (counted by the store); a set that
	// would add one beyond it is refused, replacing and deleting are not.
	// Lowering it removes nothing.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ResourceReactions int32 `json:"resourceReactions,omitempty"`
}

// WorldSpec is one event's configuration: its keys, roles and defaults.
type WorldSpec struct {
	// DisplayName is the world's title in world.config: 1-200 characters,
	// not only blanks.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:XValidation:rule="self.trim().size() > 0",message="spec.displayName must not be blank"
	DisplayName string `json:"displayName"`

	// JWT configures the verification of session tokens.
	JWT WorldJWT `json:"jwt"`

	// Roles maps a role name to its permissions, in venueless' names
	// (room:view, room:react, room:viewers, room:announce,
	// room:invite.anonymous, room:update, room:delete, world:rooms.create,
	// world:rooms.create.stage, world:rooms.create.chat,
	// world:rooms.create.bbb). Default (unset): venueless' default roles
	// viewer, participant, moderator and admin.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Roles map[string][]string `json:"roles,omitempty"`

	// TraitGrants maps a role to the traits a user needs to hold it in
	// every room of the world (the shape of a Room's spec.traitGrants).
	// Default (unset): nobody holds any role, so nobody may view a room;
	// for example {"viewer": [], "admin": ["admin"]} lets everyone view and
	// trait admin administer.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	TraitGrants map[string]TraitEntries `json:"traitGrants,omitempty"`

	// AllowGuests admits clients that authenticate with a client_id only.
	// +optional
	AllowGuests bool `json:"allowGuests,omitempty"`

	// PublicURL is the base URL of the world's invite links
	// (<publicURL>/i/<code>). Default: the node's --public-url.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	// +kubebuilder:validation:Pattern=`^https?://`
	PublicURL string `json:"publicURL,omitempty"`

	// InviteRedirect is where an invite link sends the browser:
	// {room} and {code} are replaced by the room id and the invite code.
	// Default: venueless' route /standalone/{room}/anonymous#invite={code}.
	// +optional
	// +kubebuilder:validation:MaxLength=2000
	InviteRedirect string `json:"inviteRedirect,omitempty"`

	// Reactions are the reactions a Room of the world allows when it does
	// not list its own. Default: 👏 ❤️ 👍 🤣 😮.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="spec.reactions must not repeat an emoji"
	// +kubebuilder:validation:items:Enum="👏";"❤️";"👍";"🤣";"😮"
	Reactions []string `json:"reactions,omitempty"`

	// Quotas bound the world's share of the pool.
	// +optional
	Quotas WorldQuotas `json:"quotas,omitempty"`
}

// WorldStatus is what the operator observed of the world on the pool.
type WorldStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Rooms is the number of Rooms of the world the pool serves.
	// +optional
	Rooms int32 `json:"rooms"`
	// Connections is the number of the world's client connections, summed
	// over the pool's nodes.
	// +optional
	Connections int32 `json:"connections"`
	// Phase is a one-word summary: Pending, Ready, Invalid, Conflict,
	// Deleting.
	// +optional
	Phase string `json:"phase,omitempty"`
	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wd,categories=roomring
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Rooms",type=integer,JSONPath=`.status.rooms`
// +kubebuilder:printcolumn:name="Connections",type=integer,JSONPath=`.status.connections`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="metadata.name is the world id in /ws/world/{world}/ and must be at most 63 characters"

// World is one event served by the pool: its keys, roles and rooms.
// Clients address it at /ws/world/{metadata.name}/ (venueless) or with
// the world query parameter (Socket.IO).
type World struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorldSpec   `json:"spec"`
	Status WorldStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WorldList contains a list of World.
type WorldList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []World `json:"items"`
}

func init() {
	SchemeBuilder.Register(&World{}, &WorldList{})
}
