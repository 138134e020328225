package auth

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/roomring/roomring/node/op"
)

// User is an authenticated principal of one connection. It is immutable
// once built and shared by the connection's goroutines.
type User struct {
	ID     string
	Traits []string
	// Profile is the token's profile claim as JSON (Valu's user fields live
	// here: firstName, lastName, avatar, avatar3D, companyName,
	// companyTitle, privacyMode; venueless' display_name).
	Profile op.Profile
	// InviteRoom is set for users that redeemed an anonymous invite: they may
	// enter only this room.
	InviteRoom string
	// Guest users authenticated with a client_id only.
	Guest bool
	// privacy is the profile's privacyMode, read once by NewUser.
	privacy PrivacyMode
}

// DefaultMaxProfileBytes is the default of --max-profile-bytes.
const DefaultMaxProfileBytes = 4096

// NewUser builds a user from verified token claims. It decodes the profile
// claim once: it must be a JSON object (or absent, or null: the empty
// object) of at most maxProfile bytes once compacted (maxProfile <= 0: no
// limit); its privacyMode is read here and nowhere later. A profile that
// is not an object is an invalid token (auth.invalid_token); one over the
// limit is refused (auth.denied).
func NewUser(c *Claims, maxProfile int) (*User, *op.Error) {
	u := &User{ID: c.UID, Traits: c.Traits}
	if len(c.Profile) == 0 || string(c.Profile) == "null" {
		return u, nil
	}
	p, err := op.ParseProfile(c.Profile, maxProfile)
	if errors.Is(err, op.ErrProfileTooLarge) {
		return nil, op.Errorf(op.CodeAuthDenied, "the token's %v (--max-profile-bytes)", err)
	}
	if err != nil {
		return nil, op.Errorf(op.CodeInvalidToken, "the token's %v", err)
	}
	var fields struct {
		PrivacyMode PrivacyMode `json:"privacyMode"`
	}
	if err := p.Unmarshal(&fields); err != nil { // cannot fail: PrivacyMode takes any value
		return nil, op.Errorf(op.CodeInvalidToken, "the token's profile: %v", err)
	}
	u.Profile, u.privacy = p, fields.PrivacyMode
	return u, nil
}

// Incognito reports Valu's privacyMode 1.
func (u *User) Incognito() bool { return u.privacy == 1 }

// PrivacyMode is Valu's privacyMode profile field; 1 is incognito. Tokens
// carry it as a JSON number or a string of digits; any other value is 0.
type PrivacyMode int

// UnmarshalJSON implements json.Unmarshaler. It never fails: a value of
// another type, or a string that is not an integer, is 0. A number is
// truncated towards zero.
func (m *PrivacyMode) UnmarshalJSON(b []byte) error {
	*m = 0
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			n, _ := strconv.Atoi(s)
			*m = PrivacyMode(n)
		}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		f, err := strconv.ParseFloat(string(b), 64)
		if err == nil && f > math.MinInt32 && f < math.MaxInt32 {
			*m = PrivacyMode(f)
		}
	}
	return nil
}

// Public is the user as other clients see them. Anonymous invitees are
// incognito, as venueless hides them (show_publicly=False): counted in
// their room, never listed as its viewers nor announced.
func (u *User) Public() op.User {
	return op.User{ID: u.ID, Profile: u.Profile, Badges: []string{}, Incognito: u.Incognito() || u.InviteRoom != ""}
}
