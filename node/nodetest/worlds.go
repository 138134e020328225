package nodetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/auth"
)

// WorldURL is the venueless websocket URL of world on the node at addr.
func WorldURL(addr, world string) string { return "ws://" + addr + "/ws/world/" + world + "/" }

// WorldSpec is a World spec for tests: displayName title, one JWT secret
// (whose value WorldSecrets gives) and the trait grants given (nil: none).
func WorldSpec(title string, grants map[string]v1alpha1.TraitEntries) *v1alpha1.WorldSpec {
	return &v1alpha1.WorldSpec{DisplayName: title, TraitGrants: grants,
		JWT: v1alpha1.WorldJWT{Secrets: []v1alpha1.SecretKeyRef{{Name: "jwt", Key: "secret"}}}}
}

// TokenFor mints a token for uid with traits signed with secret (a
// world's), its profile's display_name uid.
func TokenFor(t testing.TB, secret []byte, uid string, traits ...string) string {
	t.Helper()
	tok, err := auth.Sign(secret, uid, traits, map[string]any{"display_name": uid}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// LoginWorld dials world on the node at addr and authenticates uid with a
// token signed with secret.
func LoginWorld(t testing.TB, addr, world string, secret []byte, uid string, traits ...string) *Client {
	t.Helper()
	c := Dial(t, WorldURL(addr, world))
	c.Auth(map[string]any{"token": TokenFor(t, secret, uid, traits...)})
	return c
}

// DialStatus tries a websocket upgrade at url and returns the HTTP status
// of a refused upgrade (101 for an accepted one, closed at once).
func DialStatus(t testing.TB, url string) int {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil {
		_ = ws.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

// AdminDo sends an admin API request (body marshalled to JSON unless nil)
// to the node whose admin API is at addr, and decodes a 2xx answer into
// out (when not nil). It returns the status and, for an error, its body.
func AdminDo(t testing.TB, addr, token, method, path string, body, out any) (int, adminapi.Error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+adminapi.PathPrefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e adminapi.Error
	if resp.StatusCode/100 != 2 {
		_ = json.Unmarshal(b, &e)
		e.Status = resp.StatusCode
		return resp.StatusCode, e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, e
}

// PutWorld puts world id with spec and secrets through the admin API at
// addr and fails the test unless it is accepted.
func PutWorld(t testing.TB, addr, token, id string, spec *v1alpha1.WorldSpec, secrets ...[]byte) adminapi.WorldStatus {
	t.Helper()
	var st adminapi.WorldStatus
	if code, e := AdminDo(t, addr, token, http.MethodPut, "worlds/"+id, adminapi.PutWorld{Spec: *spec, Secrets: secrets}, &st); code != http.StatusOK {
		t.Fatalf("PUT world %s: %d %+v", id, code, e)
	}
	return st
}
