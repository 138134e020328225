package reaction

import (
	"encoding/json"
	"time"

	"github.com/roomring/roomring/node/op"
)

// TimeFormat is how reaction timestamps are written in both dialects:
// RFC 3339 in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Event is the payload of op.EvResourceUpdated and op.EvResourceDeleted.
// Each dialect's encoder shapes it; MarshalJSON is the venueless shape.
type Event struct {
	Room     string
	Resource string
	Comment  string
	Reaction string // the new reaction, or the one deleted
	Updated  time.Time
	// User is who reacted. When User.Incognito, encoders must not reveal
	// the id or the profile.
	User op.User
}

// MarshalJSON is the venueless payload of resource.reaction.updated and
// resource.reaction.deleted: {"room", "resource", "comment", "reaction",
// "updated", "user"}, where "user" is {"id", "profile", "badges"} or null for
// an incognito user.
func (e Event) MarshalJSON() ([]byte, error) {
	var user *op.User
	if !e.User.Incognito {
		u := e.User
		user = &u
	}
	return json.Marshal(struct {
		Room     string   `json:"room"`
		Resource string   `json:"resource"`
		Comment  string   `json:"comment"`
		Reaction string   `json:"reaction"`
		Updated  string   `json:"updated"`
		User     *op.User `json:"user"`
	}{e.Room, e.Resource, e.Comment, e.Reaction, e.Updated.UTC().Format(TimeFormat), user})
}

// Summary is getReactions' reply: {"reactions": [[userId, reaction], ...],
// "total": n, "ownReaction": "..."}. Reactions lists identified users only,
// newest first, at most Config.MaxListed of them; Total counts everyone.
type Summary struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

// Own is getUserOwnReaction's reply.
type Own struct {
	OwnReaction string `json:"ownReaction"`
}
