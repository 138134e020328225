package engine

import (
	"testing"

	"github.com/roomring/roomring/node/auth"
)

// TestCreatePerm: a new room's modules choose the permission that allows
// creating it, as venueless' create_room checks them.
func TestCreatePerm(t *testing.T) {
	mod := func(types ...string) []map[string]any {
		out := []map[string]any{}
		for _, ty := range types {
			out = append(out, map[string]any{"type": ty})
		}
		return out
	}
	for _, tc := range []struct {
		modules []map[string]any
		want    auth.Perm
	}{
		{mod("chat.native"), auth.WorldRoomsCreateChat},
		{mod("livestream.native", "chat.native"), auth.WorldRoomsCreateChat},
		{mod("call.bigbluebutton"), auth.WorldRoomsCreateBBB},
		{mod("call.bigbluebutton", "poll"), auth.WorldRoomsCreate},
		{mod("livestream.native"), auth.WorldRoomsCreateStage},
		{mod("livestream.native", "poll"), auth.WorldRoomsCreateStage},
		{nil, auth.RoomUpdate},
		{mod("exhibition.native"), auth.WorldRoomsCreate},
	} {
		if got := createPerm(tc.modules); got != tc.want {
			t.Errorf("createPerm(%v) = %v, want %v", tc.modules, got.Names(), tc.want.Names())
		}
	}
}

// TestValidateInviteRedirect: templates are paths or http(s) URLs with
// {code}.
func TestValidateInviteRedirect(t *testing.T) {
	for tmpl, ok := range map[string]bool{
		DefaultInviteRedirect:                          true,
		"https://app.example.org/join/{room}?c={code}": true,
		"/join#{code}":                                 true,
		"/standalone/{room}/anonymous":                 false, // no code
		"//evil.example/{code}":                        false,
		"javascript:alert(1)//{code}":                  false,
		"ftp://x/{code}":                               false,
		"relative/{code}":                              false,
	} {
		if err := ValidateInviteRedirect(tmpl); (err == nil) != ok {
			t.Errorf("ValidateInviteRedirect(%q) = %v, want ok %v", tmpl, err, ok)
		}
	}
}
