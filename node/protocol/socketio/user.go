package socketio

import (
	"encoding/json"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
)

// UserSimple is Valu's "User Simple" model. It is built from the session
// token's profile claim: firstName (falling back to venueless'
// display_name), lastName, avatar, avatar3D, companyName, companyTitle and
// privacyMode; id is the token's uid.
type UserSimple struct {
	ID           string    `json:"id"`
	FirstName    string    `json:"firstName"`
	LastName     string    `json:"lastName"`
	PrivacyMode  int       `json:"privacyMode"`
	Avatar       string    `json:"avatar"`
	Avatar3D     *Avatar3D `json:"avatar3D,omitempty"`
	CompanyName  string    `json:"companyName"`
	CompanyTitle string    `json:"companyTitle"`
}

// Avatar3D is User Simple's avatar3D object, omitted when empty.
type Avatar3D struct {
	AssetID      string            `json:"assetId"`
	AssetSkins   map[string]string `json:"assetSkins"`
	AvatarURL    string            `json:"avatarUrl"`
	AvatarUserID string            `json:"avatarUserId"`
}

// NewUserSimple builds the User Simple of user id from their profile. It
// decodes the fields it shows (a field of another JSON type than its own
// is empty); the profile's other fields are not decoded.
func NewUserSimple(id string, profile op.Profile) UserSimple {
	var p valuProfile
	_ = profile.Unmarshal(&p) // a mistyped field is left empty; the rest are filled
	u := UserSimple{
		ID:           id,
		FirstName:    p.FirstName.s,
		LastName:     p.LastName.s,
		PrivacyMode:  int(p.PrivacyMode),
		Avatar:       p.Avatar.s,
		Avatar3D:     p.Avatar3D.simple(),
		CompanyName:  p.CompanyName.s,
		CompanyTitle: p.CompanyTitle.s,
	}
	if u.FirstName == "" && u.LastName == "" {
		u.FirstName = p.DisplayName.s
	}
	return u
}

// Anonymous is how an incognito user appears to others: privacy mode 1 and
// nothing that identifies them.
func Anonymous() UserSimple { return UserSimple{PrivacyMode: 1} }

// valuProfile is what a User Simple shows of a profile.
type valuProfile struct {
	FirstName    text             `json:"firstName"`
	LastName     text             `json:"lastName"`
	DisplayName  text             `json:"display_name"`
	PrivacyMode  auth.PrivacyMode `json:"privacyMode"`
	Avatar       text             `json:"avatar"`
	Avatar3D     *avatar3DProfile `json:"avatar3D"`
	CompanyName  text             `json:"companyName"`
	CompanyTitle text             `json:"companyTitle"`
}

// avatar3DProfile is the profile's avatar3D object.
type avatar3DProfile struct {
	AssetID      text            `json:"assetId"`
	AvatarURL    text            `json:"avatarUrl"`
	AvatarUserID text            `json:"avatarUserId"`
	AssetSkins   map[string]text `json:"assetSkins"`
}

// simple is a's User Simple shape, nil when a is nil or has nothing.
func (a *avatar3DProfile) simple() *Avatar3D {
	if a == nil {
		return nil
	}
	out := &Avatar3D{AssetID: a.AssetID.s, AvatarURL: a.AvatarURL.s, AvatarUserID: a.AvatarUserID.s,
		AssetSkins: make(map[string]string, len(a.AssetSkins))}
	for k, v := range a.AssetSkins {
		if v.ok {
			out.AssetSkins[k] = v.s
		}
	}
	if out.AssetID == "" && out.AvatarURL == "" && out.AvatarUserID == "" && len(out.AssetSkins) == 0 {
		return nil
	}
	return out
}

// text is a profile field shown as a string: a JSON string (ok), or
// anything else, which is shown as "".
type text struct {
	s  string
	ok bool
}

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (t *text) UnmarshalJSON(b []byte) error {
	*t = text{}
	if len(b) > 0 && b[0] == '"' && json.Unmarshal(b, &t.s) == nil {
		t.ok = true
	}
	return nil
}
