package auth

import (
	"strconv"

	"github.com/roomring/roomring/node/op"
)

// User is an authenticated principal of one connection.
type User struct {
	ID     string
	Traits []string
	// Profile is the token's profile claim (Valu's user fields live here:
	// firstName, lastName, avatar, avatar3D, companyName, companyTitle,
	// privacyMode).
	Profile map[string]any
	// Guest users authenticated with a client_id only.
	Guest bool
	// InviteRoom is set for users that redeemed an anonymous invite: they may
	// enter only this room.
	InviteRoom string
}

// FromClaims builds a user from verified token claims.
func FromClaims(c *Claims) *User {
	p := c.Profile
	if p == nil {
		p = map[string]any{}
	}
	return &User{ID: c.UID, Traits: c.Traits, Profile: p}
}

// Incognito reports Valu's privacyMode 1.
func (u *User) Incognito() bool { return PrivacyMode(u.Profile) == 1 }

// PrivacyMode reads privacyMode from a profile (a JSON number or string).
func PrivacyMode(p map[string]any) int {
	switch v := p["privacyMode"].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

// Public is the user as other clients see them. Anonymous invitees are
// incognito, as venueless hides them (show_publicly=False): counted in
// their room, never listed as its viewers nor announced.
func (u *User) Public() op.User {
	return op.User{ID: u.ID, Profile: u.Profile, Badges: []string{}, Incognito: u.Incognito() || u.InviteRoom != ""}
}
