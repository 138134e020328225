package socketio_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// connectWithToken opens a bare EIO=4 websocket with session token tok,
// connects the namespace and returns the packet after the connect packet
// (user_info or invalidConnection) as its event name and data.
func connectWithToken(t *testing.T, n *nodetest.Node, tok string) (*websocket.Conn, string, json.RawMessage) {
	t.Helper()
	ws := dialEIO(t, n, "sessionId="+tok)
	writeFrame(t, ws, "40")
	if f := readFrame(t, ws); !strings.HasPrefix(f, `40{"sid":`) {
		t.Fatalf("got %q, want the connect packet", f)
	}
	f := readFrame(t, ws)
	var ev []json.RawMessage
	if !strings.HasPrefix(f, "42") || json.Unmarshal([]byte(f[2:]), &ev) != nil || len(ev) != 2 {
		t.Fatalf("got %q, want an event", f)
	}
	var name string
	if err := json.Unmarshal(ev[0], &name); err != nil {
		t.Fatalf("event %q: %v", f, err)
	}
	return ws, name, ev[1]
}

// TestProfileOverSocketIO: user_info shows a profile's fields as the token
// has them (non-ASCII text, privacyMode as a string, only the string
// skins of avatar3D); a profile over --max-profile-bytes gets
// invalidConnection 403 and the server's disconnect.
func TestProfileOverSocketIO(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) { c.MaxProfileBytes = 512 })
	p := profile("Zoë 🎉", "東京 <&>", map[string]any{
		"privacyMode": "0",
		"avatar3D":    map[string]any{"assetId": "a-1", "assetSkins": map[string]any{"hair": "röt", "n": 1}},
		"extra":       map[string]any{"deep": []any{1, map[string]any{"x": nil}}},
	})
	_, name, data := connectWithToken(t, n, nodetest.Token(t, "zoe", nil, p))
	var info struct {
		Data struct {
			User userSimple `json:"user"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &info); err != nil || name != "user_info" {
		t.Fatalf("%s %s: %v", name, data, err)
	}
	u := info.Data.User
	skins, _ := u.Avatar3D["assetSkins"].(map[string]any)
	if u.ID != "zoe" || u.FirstName != "Zoë 🎉" || u.LastName != "東京 <&>" || u.PrivacyMode != 0 || u.CompanyName != "ACME" ||
		u.Avatar3D["assetId"] != "a-1" || len(skins) != 1 || skins["hair"] != "röt" {
		t.Fatalf("user_info = %s", data)
	}

	// Incognito by a string privacyMode.
	_, _, data = connectWithToken(t, n, nodetest.Token(t, "ghost", nil, profile("G", "H", map[string]any{"privacyMode": "1"})))
	if err := json.Unmarshal(data, &info); err != nil || info.Data.User.PrivacyMode != 1 {
		t.Fatalf("user_info of an incognito user = %s, want privacyMode 1", data)
	}

	big := profile("Big", strings.Repeat("y", 512), nil)
	ws, name, data := connectWithToken(t, n, nodetest.Token(t, "big", nil, big))
	var r struct {
		Error struct {
			Status  bool   `json:"status"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil || name != "invalidConnection" || !r.Error.Status || r.Error.Code != 403 ||
		!strings.Contains(r.Error.Message, "profile") {
		t.Fatalf("%s %s, want invalidConnection 403 about the profile", name, data)
	}
	if f := readFrame(t, ws); f != "41" {
		t.Fatalf("got %q after invalidConnection, want the server's disconnect 41", f)
	}
}
