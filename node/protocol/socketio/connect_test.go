package socketio_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

var versions = []int{2, 4}

func profile(first, last string, extra map[string]any) map[string]any {
	p := map[string]any{"firstName": first, "lastName": last, "avatar": "https://img.example/" + first + ".png",
		"companyName": "ACME", "companyTitle": "Engineer", "privacyMode": 0}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

type userSimple struct {
	ID           string         `json:"id"`
	FirstName    string         `json:"firstName"`
	LastName     string         `json:"lastName"`
	PrivacyMode  int            `json:"privacyMode"`
	Avatar       string         `json:"avatar"`
	Avatar3D     map[string]any `json:"avatar3D"`
	CompanyName  string         `json:"companyName"`
	CompanyTitle string         `json:"companyTitle"`
}

func TestConnectSendsUserInfo(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			avatar3D := map[string]any{"assetId": "a-1", "assetSkins": map[string]any{"hair": "red"},
				"avatarUrl": "https://rpm.example/x.glb", "avatarUserId": "rpm-1"}
			tok := nodetest.Token(t, "alice", nil, profile("Alice", "Liddell", map[string]any{"avatar3D": avatar3D}))
			c := connect(t, a, fmt.Sprintf("alice%d", v), v, n, map[string]string{"sessionId": tok}, nil)
			c.Event("connect")
			args := c.Event("user_info")
			var info struct {
				Data struct {
					User userSimple `json:"user"`
				} `json:"data"`
				Error struct {
					Status  bool   `json:"status"`
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(args[0], &info); err != nil {
				t.Fatal(err)
			}
			u := info.Data.User
			if u.ID != "alice" || u.FirstName != "Alice" || u.LastName != "Liddell" || u.CompanyName != "ACME" ||
				u.CompanyTitle != "Engineer" || u.Avatar != "https://img.example/Alice.png" || u.PrivacyMode != 0 ||
				u.Avatar3D["assetId"] != "a-1" || u.Avatar3D["avatarUserId"] != "rpm-1" {
				t.Fatalf("user_info = %s", args[0])
			}
			if info.Error.Status || info.Error.Code != 0 || info.Error.Message != "" {
				t.Fatalf("user_info error = %+v", info.Error)
			}

			// avatar3D is omitted when empty.
			tok = nodetest.Token(t, "bob", nil, profile("Bob", "B", nil))
			b := connect(t, a, fmt.Sprintf("bob%d", v), v, n, map[string]string{"sessionId": tok}, nil)
			args = b.Event("user_info")
			if strings.Contains(string(args[0]), "avatar3D") {
				t.Fatalf("user_info with an empty avatar3D: %s", args[0])
			}
			c.Close()
			b.Close()
		})
	}
}

func TestInvalidSessionIsDisconnected(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		for name, query := range map[string]map[string]string{
			"bad-token": {"sessionId": "not-a-jwt"},
			"missing":   {},
		} {
			t.Run(fmt.Sprintf("v%d/%s", v, name), func(t *testing.T) {
				c := connect(t, a, fmt.Sprintf("bad%d%s", v, name), v, n, query, nil)
				args := c.Event("invalidConnection")
				r := sioagent.DecodeReply(t, args[0])
				if !r.Error.Status || r.Error.Code != 401 || r.Error.Message == "" {
					t.Fatalf("invalidConnection = %s, want a 401 error", args[0])
				}
				d := c.Event("disconnect")
				if string(d[0]) != `"io server disconnect"` {
					t.Fatalf("disconnect reason %s, want the server's disconnect", d[0])
				}
				if c.Has("user_info") {
					t.Fatal("an invalid session got user_info")
				}
			})
		}
	}
}

func TestPollingIsRefused(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	for _, q := range []string{"EIO=4&transport=polling", "EIO=3&transport=polling&sessionId=x"} {
		resp, err := http.Get("http://" + n.Addr() + "/socket/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Code != 3 ||
			!strings.Contains(e.Message, "websocket") || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %s %q", q, resp.Status, body)
		}
	}
	resp, err := http.Get("http://" + n.Addr() + "/socket/?EIO=5&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("EIO=5: %s", resp.Status)
	}

	// The real clients, asked for polling, fail to connect.
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		c := a.Connect(t, sioagent.ClientConfig{Name: fmt.Sprintf("poll%d", v), Version: v, URL: "http://" + n.Addr(),
			Query: map[string]string{"sessionId": "x"}, Transports: []string{"polling"}})
		c.Event("connect_error")
		if c.Has("connect") {
			t.Fatalf("v%d connected over polling", v)
		}
	}
}

// TestReplacedConnectionIsDisconnected checks the per-user connection limit
// across dialects: a user's newest connection replaces the oldest, which the
// server disconnects.
func TestReplacedConnectionIsDisconnected(t *testing.T) {
	cfg := nodetest.Config(t, "")
	cfg.MaxConnsPerUser = 1
	n := nodetest.Start(t, cfg)
	a := sioagent.StartOrSkip(t)
	old := connected(t, a, n, "old", 2, "jo", nil, profile("Jo", "J", nil))
	old.ok("room:join", map[string]any{"room": "room_1"})
	v := nodetest.Dial(t, n.URL())
	v.Auth(map[string]any{"token": nodetest.Token(t, "jo", nil, nil)})
	if d := old.Event("disconnect"); string(d[0]) != `"io server disconnect"` {
		t.Fatalf("replaced socket: disconnect %s", d[0])
	}
	newer := connected(t, a, n, "new", 4, "jo", nil, profile("Jo", "J", nil))
	newer.ok("room:join", map[string]any{"room": "room_1"})
	if f := v.Wait(waitTimeout, "connection.replaced", func(f nodetest.Frame) bool { return f.Kind() == "error" }); !strings.Contains(f.String(), "connection.replaced") {
		t.Fatalf("venueless connection got %s", f)
	}
}
