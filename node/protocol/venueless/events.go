package venueless

import (
	"encoding/json"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/reaction"
)

// The pushes' data shapes, one per event kind clients receive.

// user is a user as venueless clients see one.
type user struct {
	ID      string     `json:"id"`
	Profile op.Profile `json:"profile"` // written as the token has it
	Badges  []string   `json:"badges"`
}

func newUser(u op.User) user { return user{ID: u.ID, Profile: u.Profile, Badges: u.Badges} }

func newUsers(us []op.User) []user {
	if us == nil {
		return nil
	}
	out := make([]user, len(us))
	for i, u := range us {
		out[i] = newUser(u)
	}
	return out
}

type viewerAdded struct {
	User user `json:"user"`
}

type viewerRemoved struct {
	UserID string `json:"user_id"`
}

type roomReaction struct {
	Room      string         `json:"room"`
	Reactions map[string]int `json:"reactions"`
}

type schedule struct {
	Room         string         `json:"room"`
	ScheduleData map[string]any `json:"schedule_data"`
}

type roomDeleted struct {
	ID string `json:"id"`
}

type userCount struct {
	Room  string       `json:"room"`
	Users op.Occupancy `json:"users"`
}

// resourceReaction is the data of resource.reaction.updated and
// resource.reaction.deleted; User is null for an incognito user.
type resourceReaction struct {
	Room     string `json:"room"`
	Resource string `json:"resource"`
	Comment  string `json:"comment"`
	Reaction string `json:"reaction"`
	Updated  string `json:"updated"`
	User     *user  `json:"user"`
}

func newResourceReaction(r op.ResourceReaction) resourceReaction {
	var u *user
	if !r.User.Incognito {
		v := newUser(r.User)
		u = &v
	}
	return resourceReaction{Room: r.Room, Resource: r.Resource, Comment: r.Comment, Reaction: r.Reaction,
		Updated: r.Updated.UTC().Format(reaction.TimeFormat), User: u}
}

// eventData is the data of a shared (non-personal) event's push; ok is
// false for kinds venueless clients do not receive as such.
func eventData(p op.Payload) (data any, ok bool) {
	switch d := p.(type) {
	case op.ViewerAdded:
		return viewerAdded{User: newUser(d.User)}, true
	case op.ViewerRemoved:
		return viewerRemoved{UserID: d.UserID}, true
	case op.Reaction:
		return roomReaction{Room: d.Room, Reactions: d.Reactions}, true
	case op.Schedule:
		return schedule{Room: d.Room, ScheduleData: d.ScheduleData}, true
	case op.RoomDeleted:
		return roomDeleted{ID: d.ID}, true
	case op.UserCount:
		return userCount{Room: d.Room, Users: d.Users}, true
	case op.ResourceReactionUpdated:
		return newResourceReaction(op.ResourceReaction(d)), true
	case op.ResourceReactionDeleted:
		return newResourceReaction(op.ResourceReaction(d)), true
	case op.Unknown:
		if json.Valid(d.JSON) {
			return json.RawMessage(d.JSON), true
		}
	case nil:
		return nil, true
	}
	return nil, false
}

// EncodeEvent encodes a shared (non-personal) event for venueless clients.
func EncodeEvent(ev *op.Event) ([]byte, bool) {
	data, ok := eventData(ev.Data)
	if !ok {
		return nil, false
	}
	return Push(string(ev.Kind), data), true
}
