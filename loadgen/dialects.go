package loadgen

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/roomring/roomring/node/auth"
)

// tokenTTL is the lifetime of the tokens the load generator mints.
const tokenTTL = 24 * time.Hour

// token mints c's session token.
func (c *client) token() (string, error) {
	var traits []string
	if c.moderator {
		traits = []string{"moderator"}
	}
	return auth.Sign([]byte(c.w.cfg.JWTSecret), c.uid, traits, map[string]any{"display_name": c.uid}, tokenTTL)
}

// venuelessDialect speaks venueless' Rooms API: JSON arrays.
type venuelessDialect struct{}

func (venuelessDialect) path(c *client) (string, error) {
	return "/ws/world/" + url.PathEscape(c.w.cfg.World) + "/", nil
}

// vlKind splits a venueless message into its first element (the action or
// event name) and what follows it (",..." up to the closing bracket).
func vlKind(msg []byte) (kind, rest []byte) {
	if len(msg) < 4 || msg[0] != '[' || msg[1] != '"' {
		return nil, nil
	}
	j := bytes.IndexByte(msg[2:], '"')
	if j < 0 {
		return nil, nil
	}
	return msg[2 : 2+j], msg[3+j:]
}

// vlID reads the id after the first element (rest starts with ",").
func vlID(rest []byte) (int64, bool) {
	if len(rest) < 2 || rest[0] != ',' {
		return 0, false
	}
	id, _, ok := parseInt(rest[1:])
	return id, ok
}

func (venuelessDialect) setup(c *client) error {
	f := []byte(`["authenticate",{`)
	if c.w.cfg.Guests && !c.moderator {
		f = append(f, `"client_id":`...)
		f = jsonString(f, c.uid)
	} else {
		tok, err := c.token()
		if err != nil {
			return err
		}
		f = append(f, `"token":`...)
		f = jsonString(f, tok)
	}
	f = append(f, "}]"...)
	if err := c.sendSetup(f); err != nil {
		return err
	}
	err := c.readSetup(func(msg []byte) (bool, error) {
		switch kind, _ := vlKind(msg); string(kind) {
		case "authenticated":
			return true, nil
		case "error":
			return false, setupError("authenticate", msg)
		}
		return false, nil
	})
	if err != nil || c.w.cfg.Mode != ModeRooms || c.room == "" {
		return err
	}
	f = append(f[:0], `["room.enter",0,{"room":`...)
	f = jsonString(f, c.room)
	f = append(f, "}]"...)
	if err := c.sendSetup(f); err != nil {
		return err
	}
	return c.readSetup(func(msg []byte) (bool, error) {
		kind, rest := vlKind(msg)
		switch string(kind) {
		case "success", "error":
			if id, ok := vlID(rest); !ok || id != 0 {
				return false, nil
			}
			if string(kind) == "error" {
				return false, setupError("room.enter", msg)
			}
			return true, nil
		}
		return false, nil
	})
}

func (venuelessDialect) handle(c *client, msg []byte, now int64) {
	w := c.w
	kind, rest := vlKind(msg)
	switch string(kind) {
	case "room.schedule":
		if !c.delivered(msg, now) {
			w.live.otherIn.Add(1)
		}
	case "room.reaction":
		w.live.reactions.Add(1)
		w.groups.add(stringAfter(rest, `"room":"`), payloadHash(msg), now)
	case "success":
		if id, ok := vlID(rest); ok {
			c.replied(id, "", now)
		} else {
			w.live.unmatched.Add(1)
		}
	case "error":
		code := stringAfter(rest, `"code":"`)
		if id, ok := vlID(rest); ok {
			c.replied(id, code, now)
		} else {
			w.live.errReplies.Add(1)
			w.live.fail(code)
		}
	case "room.viewer.added", "room.viewer.removed":
		w.live.viewer.Add(1)
	default:
		w.live.otherIn.Add(1)
	}
}

func (venuelessDialect) request(c *client, dst []byte, kind uint8, id int64, stamp int64) []byte {
	return appendVenueless(dst, c, kind, id, stamp)
}

func appendVenueless(dst []byte, c *client, kind uint8, id int64, stamp int64) []byte {
	var action string
	switch kind {
	case reqReact, reqFlood:
		action = "room.react"
	case reqBroadcast:
		action = "room.schedule"
	case reqLeave:
		action = "room.leave"
	case reqEnter:
		action = "room.enter"
	}
	dst = append(dst, `["`...)
	dst = append(dst, action...)
	dst = append(dst, `",`...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, `,{"room":`...)
	dst = jsonString(dst, c.room)
	switch kind {
	case reqReact, reqFlood:
		dst = append(dst, `,"reaction":`...)
		dst = jsonString(dst, c.nextEmoji())
	case reqBroadcast:
		dst = append(dst, `,"schedule_data":{"title":"`...)
		dst = appendStamp(dst, stamp)
		dst = append(dst, `"}`...)
	}
	return append(dst, "}]"...)
}

// echoDialect drives the echo fixture with venueless room.react frames:
// every echo is the reply to the frame it repeats.
type echoDialect struct{}

func (echoDialect) path(*client) (string, error) { return "/", nil }

func (echoDialect) setup(*client) error { return nil }

func (echoDialect) handle(c *client, msg []byte, now int64) {
	if _, rest := vlKind(msg); rest != nil {
		if id, ok := vlID(rest); ok {
			c.replied(id, "", now)
			return
		}
	}
	c.w.live.unmatched.Add(1)
}

func (echoDialect) request(c *client, dst []byte, kind uint8, id int64, stamp int64) []byte {
	return appendVenueless(dst, c, kind, id, stamp)
}

// socketIODialect speaks Valu's API over Socket.IO (Engine.IO 4, websocket
// transport). Valu clients receive no room.schedule or room.reaction:
// broadcasts and reactions are resource reactions, whose
// resource:reactionUpdated event reaches everyone joined to the room.
type socketIODialect struct{}

func (socketIODialect) path(c *client) (string, error) {
	tok, err := c.token()
	if err != nil {
		return "", err
	}
	return "/socket/?EIO=4&transport=websocket&sessionId=" + url.QueryEscape(tok), nil
}

var errNoOpen = errors.New("socket.io: expected the open packet")

func (socketIODialect) setup(c *client) error {
	opened := false
	err := c.readSetup(func(msg []byte) (bool, error) {
		if !opened {
			if len(msg) == 0 || msg[0] != '0' {
				return false, errNoOpen
			}
			opened = true
			return false, c.sendSetup([]byte("40"))
		}
		switch {
		case bytes.HasPrefix(msg, []byte(`42["user_info"`)):
			return true, nil
		case bytes.HasPrefix(msg, []byte(`42["invalidConnection"`)), bytes.HasPrefix(msg, []byte("44")):
			return false, setupError("connect", msg)
		case len(msg) == 1 && msg[0] == '2':
			return false, c.sendSetup([]byte("3"))
		}
		return false, nil
	})
	if err != nil || c.room == "" {
		return err
	}
	f := append([]byte(`420["room:join",{"data":{"room":`), nil...)
	f = jsonString(f, c.room)
	f = append(f, "}}]"...)
	if err := c.sendSetup(f); err != nil {
		return err
	}
	return c.readSetup(func(msg []byte) (bool, error) {
		if len(msg) == 1 && msg[0] == '2' {
			return false, c.sendSetup([]byte("3"))
		}
		if !bytes.HasPrefix(msg, []byte("430[")) {
			return false, nil
		}
		if bytes.Contains(msg, []byte(`"status":true`)) {
			return false, setupError("room:join", msg)
		}
		return true, nil
	})
}

func (socketIODialect) handle(c *client, msg []byte, now int64) {
	w := c.w
	switch {
	case len(msg) == 1 && msg[0] == '2': // Engine.IO ping
		if err := c.ws.writeText([]byte("3")); err == nil {
			w.live.msgsOut.Add(1)
		}
		w.live.otherIn.Add(1)
	case bytes.HasPrefix(msg, []byte(`42["resource:reactionUpdated"`)):
		if !c.delivered(msg, now) {
			w.live.otherIn.Add(1)
		}
	case bytes.HasPrefix(msg, []byte("43")):
		id, _, ok := parseInt(msg[2:])
		if !ok {
			w.live.unmatched.Add(1)
			return
		}
		code := ""
		if bytes.Contains(msg, []byte(`"status":true`)) {
			n, _, _ := parseInt([]byte(stringAfterRaw(msg, `"code":`)))
			code = "socketio." + strconv.FormatInt(n, 10)
		}
		c.replied(id, code, now)
	default:
		w.live.otherIn.Add(1)
	}
}

// stringAfterRaw returns the bytes after key up to the next comma or brace.
func stringAfterRaw(msg []byte, key string) string { return valueAfter(msg, key, ",}") }

func (socketIODialect) request(c *client, dst []byte, kind uint8, id int64, stamp int64) []byte {
	dst = append(dst, "42"...)
	dst = strconv.AppendInt(dst, id, 10)
	switch kind {
	case reqLeave:
		dst = append(dst, `["room:leave",{"data":{"room":`...)
		dst = jsonString(dst, c.room)
		return append(dst, "}}]"...)
	case reqEnter:
		dst = append(dst, `["room:join",{"data":{"room":`...)
		dst = jsonString(dst, c.room)
		return append(dst, "}}]"...)
	}
	dst = append(dst, `["resource:setReaction",{"data":{"room":`...)
	dst = jsonString(dst, c.room)
	if kind == reqBroadcast {
		dst = append(dst, `,"resource":"lg-broadcast","reaction":"`...)
		dst = appendStamp(dst, stamp)
		return append(dst, `"}}]`...)
	}
	dst = append(dst, `,"resource":"lg-reactions","reaction":`...)
	dst = jsonString(dst, c.nextEmoji())
	return append(dst, "}}]"...)
}
