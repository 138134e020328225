package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
	"github.com/roomring/roomring/node/store"
)

// Operations between nodes. Owner operations run on the room's owner, which
// refuses them (notOwner) when, in its view of the ring, it does not own
// the room; the others run wherever they are sent.
const (
	// Owner operations, edge → owner.
	opEnter       = "enter"        // request: User → Viewers
	opLeave       = "leave"        // request: UserID
	opReact       = "react"        // message: UserID, Reaction
	opAnnounce    = "announce"     // request: Event
	opForget      = "forget"       // request
	opSync        = "sync"         // request: Users, the edge's members of the room; Ring, the ring it followed
	opViewers     = "viewers"      // request → Count
	opResourceSet = "resource.set" // request: User, Target, Reaction
	opResourceDel = "resource.del" // request: User, Target
	// Other operations.
	opDeliver    = "deliver"     // message, owner → edge: Event
	opSynced     = "synced"      // message, edge → every member: Ring, its announcements are through
	opCatalogGet = "catalog.get" // request: IDs → Records
	opCatalogPut = "catalog.put" // message, writer → every peer: Records, a local catalog write
)

// request is every operation's wire form (JSON); the edge that sends an
// owner operation is the authenticated peer, never a field.
type request struct {
	Op       string           `json:"op"`
	Room     string           `json:"room,omitempty"`
	User     *wireUser        `json:"user,omitempty"`
	UserID   string           `json:"uid,omitempty"`
	Reaction string           `json:"reaction,omitempty"`
	Event    *wireEvent       `json:"event,omitempty"`
	Users    []wireUser       `json:"users,omitempty"`
	Target   *reaction.Target `json:"target,omitempty"`
	IDs      []string         `json:"ids,omitempty"`
	Records  []catalog.Record `json:"records,omitempty"`
	Ring     uint64           `json:"ring,omitempty"`
	// Blind says, on a sync, that no session of the announcing edge may
	// see the room's viewers: the owner sends it no viewer snapshot.
	Blind bool `json:"blind,omitempty"`
	// NoViewers asks an enter not to answer the room's viewer list (the
	// session may not see it; building and sending it costs the room's
	// size). Owners that do not know the field answer the list anyway.
	NoViewers bool `json:"no_viewers,omitempty"`

	// local is the original event of a request served on the node that
	// made it (no round trip through JSON).
	local *op.Event
}

// response is a request's reply.
type response struct {
	// NotOwner: the node does not own the room in its view of the ring.
	NotOwner bool `json:"not_owner,omitempty"`
	// Rebuilding: the owner is still collecting the room's members after
	// the ring changed; ask again shortly.
	Rebuilding bool `json:"rebuilding,omitempty"`
	// Error is the operation's failure; Code is set for errors the client
	// sees as they are (op.Error).
	Error   string           `json:"error,omitempty"`
	Code    op.Code          `json:"code,omitempty"`
	Viewers []wireUser       `json:"viewers,omitempty"`
	Count   int              `json:"count,omitempty"`
	Records []catalog.Record `json:"records,omitempty"`
}

// retry reports whether the request should be sent again, to whichever
// node the ring then names.
func (q *response) retry() bool { return q.NotOwner || q.Rebuilding }

func (q *response) err() error {
	switch {
	case q.Code != "":
		return &op.Error{Code: q.Code, Message: q.Error}
	case q.Error != "":
		return fmt.Errorf("owner: %s", q.Error)
	}
	return nil
}

// failure is the response of an operation that failed with err. Errors the
// client must see as they are travel as their code: op.Error, and a store
// that could not be reached (store.ErrUnavailable), which the edge's client
// gets as server.unavailable (503), as on a single node, not as
// server.error: the write was not acknowledged and may be retried.
func failure(err error) *response {
	var oe *op.Error
	if errors.As(err, &oe) {
		return &response{Code: oe.Code, Error: oe.Message}
	}
	if errors.Is(err, store.ErrUnavailable) {
		return &response{Code: op.CodeUnavailable, Error: "storage is unavailable, try again later"}
	}
	return &response{Error: err.Error()}
}

// wireUser is op.User with its incognito flag, which op.User does not
// marshal (clients must never see it). Profile travels as its JSON text,
// written and read as it is: the same JSON object earlier nodes sent from a
// map (and omitted when empty), so nodes of both kinds understand each
// other during a rolling upgrade (TestWireUserAcrossVersions).
type wireUser struct {
	ID        string     `json:"id"`
	Profile   op.Profile `json:"profile,omitzero"`
	Badges    []string   `json:"badges,omitempty"`
	Incognito bool       `json:"incognito,omitempty"`
}

func toWireUser(u op.User) wireUser {
	return wireUser{ID: u.ID, Profile: u.Profile, Badges: u.Badges, Incognito: u.Incognito}
}

func (w wireUser) user() op.User {
	u := op.User{ID: w.ID, Profile: w.Profile, Badges: w.Badges, Incognito: w.Incognito}
	if u.Badges == nil {
		u.Badges = []string{}
	}
	return u
}

func toWireUsers(us []op.User) []wireUser {
	out := make([]wireUser, len(us))
	for i, u := range us {
		out[i] = toWireUser(u)
	}
	return out
}

func fromWireUsers(ws []wireUser) []op.User {
	out := make([]op.User, len(ws))
	for i, w := range ws {
		out[i] = w.user()
	}
	return out
}

// wireEvent is an op.Event between nodes. Its payload travels in its
// kind's peer form (peerForms), which keeps everything the receiving node's
// encoders need, the incognito flag included.
type wireEvent struct {
	Kind     op.EventKind    `json:"kind"`
	Room     string          `json:"room,omitempty"`
	Audience op.Audience     `json:"audience"`
	World    string          `json:"world,omitempty"`
	Subject  string          `json:"subject,omitempty"`
	Personal bool            `json:"personal,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// peerForm is how one event kind's payload crosses the peer link.
type peerForm struct {
	// encode returns the payload's peer form; ok is false when p is not
	// of the form's kind.
	encode func(p op.Payload) (form any, ok bool)
	decode func(b []byte) (op.Payload, error)
}

// formOf is the peer form that writes a payload P as W.
func formOf[P op.Payload, W any](to func(P) W, from func(W) P) peerForm {
	return peerForm{
		encode: func(p op.Payload) (any, bool) {
			d, ok := p.(P)
			if !ok {
				return nil, false
			}
			return to(d), true
		},
		decode: func(b []byte) (op.Payload, error) {
			var w W
			if err := json.Unmarshal(b, &w); err != nil {
				return nil, err
			}
			return from(w), nil
		},
	}
}

// peerForms is the registry of the event kinds nodes exchange: kind →
// peer form of its payload. Kinds missing here travel as op.Unknown. The
// JSON keys are the ones nodes have always written, so that nodes of
// different versions understand each other.
var peerForms = map[op.EventKind]peerForm{
	op.EvViewerAdded: formOf(
		func(d op.ViewerAdded) viewerAdded { return viewerAdded{User: toWireUser(d.User)} },
		func(w viewerAdded) op.ViewerAdded { return op.ViewerAdded{User: w.User.user()} }),
	op.EvViewerRemoved: formOf(
		func(d op.ViewerRemoved) viewerRemoved { return viewerRemoved(d) },
		func(w viewerRemoved) op.ViewerRemoved { return op.ViewerRemoved(w) }),
	op.EvViewerSnapshot: formOf(
		func(d op.ViewerSnapshot) viewerSnapshot { return viewerSnapshot{Users: toWireUsers(d.Users)} },
		func(w viewerSnapshot) op.ViewerSnapshot { return op.ViewerSnapshot{Users: fromWireUsers(w.Users)} }),
	op.EvReaction: formOf(
		func(d op.Reaction) roomReaction { return roomReaction(d) },
		func(w roomReaction) op.Reaction { return op.Reaction(w) }),
	op.EvSchedule: formOf(
		func(d op.Schedule) schedule { return schedule(d) },
		func(w schedule) op.Schedule { return op.Schedule(w) }),
	op.EvRoomCreate: formOf(
		func(d op.RoomCreated) roomID { return roomID(d) },
		func(w roomID) op.RoomCreated { return op.RoomCreated(w) }),
	op.EvRoomDelete: formOf(
		func(d op.RoomDeleted) roomID { return roomID(d) },
		func(w roomID) op.RoomDeleted { return op.RoomDeleted(w) }),
	op.EvWorldUpdated: formOf(
		func(op.WorldUpdated) struct{} { return struct{}{} },
		func(struct{}) op.WorldUpdated { return op.WorldUpdated{} }),
	op.EvUserCount: formOf(
		func(d op.UserCount) userCount { return userCount(d) },
		func(w userCount) op.UserCount { return op.UserCount(w) }),
	op.EvResourceUpdated: formOf(
		func(d op.ResourceReactionUpdated) resourceEvent { return toResourceEvent(op.ResourceReaction(d)) },
		func(w resourceEvent) op.ResourceReactionUpdated { return op.ResourceReactionUpdated(w.reaction()) }),
	op.EvResourceDeleted: formOf(
		func(d op.ResourceReactionDeleted) resourceEvent { return toResourceEvent(op.ResourceReaction(d)) },
		func(w resourceEvent) op.ResourceReactionDeleted { return op.ResourceReactionDeleted(w.reaction()) }),
}

// The peer forms of the payloads.
type (
	viewerAdded struct {
		User wireUser `json:"user"`
	}
	viewerRemoved struct {
		UserID string `json:"user_id"`
	}
	viewerSnapshot struct {
		Users []wireUser `json:"users"`
	}
	roomReaction struct {
		Room      string         `json:"room"`
		Reactions map[string]int `json:"reactions"`
	}
	schedule struct {
		Room         string         `json:"room"`
		ScheduleData map[string]any `json:"schedule_data"`
	}
	roomID struct {
		ID string `json:"id"`
	}
	userCount struct {
		Room  string       `json:"room"`
		Users op.Occupancy `json:"users"`
	}
	// resourceEvent carries the reacting user whole (wireUser), incognito
	// or not; clients' encoders hide what they must.
	resourceEvent struct {
		Room     string    `json:"room"`
		Resource string    `json:"resource"`
		Comment  string    `json:"comment"`
		Reaction string    `json:"reaction"`
		Updated  time.Time `json:"updated"`
		User     wireUser  `json:"user"`
	}
)

func toResourceEvent(r op.ResourceReaction) resourceEvent {
	return resourceEvent{Room: r.Room, Resource: r.Resource, Comment: r.Comment, Reaction: r.Reaction, Updated: r.Updated, User: toWireUser(r.User)}
}

func (w resourceEvent) reaction() op.ResourceReaction {
	return op.ResourceReaction{Room: w.Room, Resource: w.Resource, Comment: w.Comment, Reaction: w.Reaction, Updated: w.Updated, User: w.User.user()}
}

// toWireEvent writes ev in its peer form. An op.Unknown payload (of a kind
// this node does not know) travels on as it came.
func toWireEvent(ev *op.Event) (*wireEvent, error) {
	w := &wireEvent{Kind: ev.Kind, Room: ev.Room, Audience: ev.Audience, World: ev.World, Subject: ev.Subject, Personal: ev.Personal}
	if ev.Data == nil {
		w.Data = json.RawMessage("null")
		return w, nil
	}
	if u, ok := ev.Data.(op.Unknown); ok {
		w.Data = u.JSON
		return w, nil
	}
	var data any
	form, ok := peerForms[ev.Kind]
	if ok {
		data, ok = form.encode(ev.Data)
	}
	if !ok {
		return nil, fmt.Errorf("encode %s event: no peer form for %T", ev.Kind, ev.Data)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	w.Data = b
	return w, nil
}

// event decodes w into the event an owner on this node would have
// published: payloads of known kinds get their Go types back, others are
// op.Unknown.
func (w *wireEvent) event() (*op.Event, error) {
	ev := &op.Event{Kind: w.Kind, Room: w.Room, Audience: w.Audience, World: w.World, Subject: w.Subject, Personal: w.Personal}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		return ev, nil
	}
	form, ok := peerForms[w.Kind]
	if !ok {
		ev.Data = op.Unknown{Kind: w.Kind, JSON: w.Data}
		return ev, nil
	}
	d, err := form.decode(w.Data)
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", w.Kind, err)
	}
	ev.Data = d
	return ev, nil
}
