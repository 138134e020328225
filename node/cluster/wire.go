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
// marshal (clients must never see it).
type wireUser struct {
	ID        string         `json:"id"`
	Profile   map[string]any `json:"profile,omitempty"`
	Badges    []string       `json:"badges,omitempty"`
	Incognito bool           `json:"incognito,omitempty"`
}

func toWireUser(u op.User) wireUser {
	return wireUser{ID: u.ID, Profile: u.Profile, Badges: u.Badges, Incognito: u.Incognito}
}

func (w wireUser) user() op.User {
	u := op.User{ID: w.ID, Profile: w.Profile, Badges: w.Badges, Incognito: w.Incognito}
	if u.Profile == nil {
		u.Profile = map[string]any{}
	}
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

// wireEvent is an op.Event between nodes. Its payload travels as JSON and
// is decoded back into the type its encoders expect (see eventData).
type wireEvent struct {
	Kind     op.EventKind    `json:"kind"`
	Room     string          `json:"room,omitempty"`
	Audience op.Audience     `json:"audience"`
	Subject  string          `json:"subject,omitempty"`
	Personal bool            `json:"personal,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// resourceEvent is reaction.Event on the wire: reaction.Event marshals to
// the venueless shape, which hides incognito users and drops their ids.
type resourceEvent struct {
	Room     string    `json:"room"`
	Resource string    `json:"resource"`
	Comment  string    `json:"comment"`
	Reaction string    `json:"reaction"`
	Updated  time.Time `json:"updated"`
	User     wireUser  `json:"user"`
}

type viewerAdded struct {
	User wireUser `json:"user"`
}

func toWireEvent(ev *op.Event) (*wireEvent, error) {
	var data any = ev.Data
	switch d := ev.Data.(type) {
	case op.ResourceReactionUpdated:
		data = resourceEvent{Room: d.Room, Resource: d.Resource, Comment: d.Comment, Reaction: d.Reaction, Updated: d.Updated, User: toWireUser(d.User)}
	case op.ResourceReactionDeleted:
		data = resourceEvent{Room: d.Room, Resource: d.Resource, Comment: d.Comment, Reaction: d.Reaction, Updated: d.Updated, User: toWireUser(d.User)}
	case op.Unknown:
		data = json.RawMessage(d.JSON)
	case op.ViewerAdded:
		data = viewerAdded{User: toWireUser(d.User)}
	case op.ViewerSnapshot:
		data = struct {
			Users []wireUser `json:"users"`
		}{toWireUsers(d.Users)}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	return &wireEvent{Kind: ev.Kind, Room: ev.Room, Audience: ev.Audience, Subject: ev.Subject, Personal: ev.Personal, Data: b}, nil
}

// event decodes w into the event an owner on this node would have
// published: payloads of known kinds get their Go types back, others stay
// raw JSON (which every encoder marshals verbatim).
func (w *wireEvent) event() (*op.Event, error) {
	ev := &op.Event{Kind: w.Kind, Room: w.Room, Audience: w.Audience, Subject: w.Subject, Personal: w.Personal}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		return ev, nil
	}
	var err error
	switch w.Kind {
	case op.EvViewerAdded:
		var d viewerAdded
		err = json.Unmarshal(w.Data, &d)
		ev.Data = op.ViewerAdded{User: d.User.user()}
	case op.EvViewerRemoved:
		var d op.ViewerRemoved
		err = json.Unmarshal(w.Data, &d)
		ev.Data = d
	case op.EvReaction:
		var d op.Reaction
		err = json.Unmarshal(w.Data, &d)
		ev.Data = d
	case op.EvSchedule:
		var d op.Schedule
		err = json.Unmarshal(w.Data, &d)
		ev.Data = d
	case op.EvRoomDelete:
		var d op.RoomDeleted
		err = json.Unmarshal(w.Data, &d)
		ev.Data = d
	case op.EvViewerSnapshot:
		var d struct {
			Users []wireUser `json:"users"`
		}
		err = json.Unmarshal(w.Data, &d)
		ev.Data = op.ViewerSnapshot{Users: fromWireUsers(d.Users)}
	case op.EvResourceUpdated, op.EvResourceDeleted:
		var d resourceEvent
		err = json.Unmarshal(w.Data, &d)
		r := op.ResourceReaction{Room: d.Room, Resource: d.Resource, Comment: d.Comment, Reaction: d.Reaction, Updated: d.Updated, User: d.User.user()}
		if w.Kind == op.EvResourceUpdated {
			ev.Data = op.ResourceReactionUpdated(r)
		} else {
			ev.Data = op.ResourceReactionDeleted(r)
		}
	default:
		ev.Data = op.Unknown{Kind: w.Kind, JSON: w.Data}
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", w.Kind, err)
	}
	return ev, nil
}
