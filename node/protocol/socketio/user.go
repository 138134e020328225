package socketio

import "github.com/roomring/roomring/node/auth"

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

// NewUserSimple builds the User Simple of user id with profile.
func NewUserSimple(id string, profile map[string]any) UserSimple {
	u := UserSimple{
		ID:           id,
		FirstName:    str(profile, "firstName"),
		LastName:     str(profile, "lastName"),
		PrivacyMode:  auth.PrivacyMode(profile),
		Avatar:       str(profile, "avatar"),
		Avatar3D:     avatar3D(profile["avatar3D"]),
		CompanyName:  str(profile, "companyName"),
		CompanyTitle: str(profile, "companyTitle"),
	}
	if u.FirstName == "" && u.LastName == "" {
		u.FirstName = str(profile, "display_name")
	}
	return u
}

// Anonymous is how an incognito user appears to others: privacy mode 1 and
// nothing that identifies them.
func Anonymous() UserSimple { return UserSimple{PrivacyMode: 1} }

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func avatar3D(v any) *Avatar3D {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	a := &Avatar3D{AssetID: str(m, "assetId"), AvatarURL: str(m, "avatarUrl"), AvatarUserID: str(m, "avatarUserId"),
		AssetSkins: map[string]string{}}
	if skins, ok := m["assetSkins"].(map[string]any); ok {
		for k, v := range skins {
			if s, ok := v.(string); ok {
				a.AssetSkins[k] = s
			}
		}
	}
	if a.AssetID == "" && a.AvatarURL == "" && a.AvatarUserID == "" && len(a.AssetSkins) == 0 {
		return nil
	}
	return a
}
