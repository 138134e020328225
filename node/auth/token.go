// Package auth turns credentials (JWTs, guest client ids, anonymous invites)
// into users, and users plus trait grants into permissions.
package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomring/roomring/node/op"
)

// Secret is one accepted signing key, optionally bound to an issuer and an
// audience. An empty Issuer or Audience accepts any value. Issuers and
// Audiences, when set, accept any one of their values (a world's lists).
type Secret struct {
	Issuer    string
	Audience  string
	Issuers   []string
	Audiences []string
	Key       []byte
}

// allows reports whether c's iss and aud claims satisfy the lists of s.
func (s Secret) allows(c *Claims) error {
	if len(s.Issuers) > 0 && !slices.Contains(s.Issuers, c.Issuer) {
		return fmt.Errorf("issuer %q is not accepted", c.Issuer)
	}
	if len(s.Audiences) > 0 && !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(s.Audiences, a) }) {
		return errors.New("no accepted audience")
	}
	return nil
}

// Verifier checks HS256 session tokens. It is safe for concurrent use.
type Verifier struct {
	secrets []Secret
	now     func() time.Time
}

// NewVerifier returns a Verifier accepting tokens signed by any of secrets.
func NewVerifier(secrets []Secret) *Verifier {
	return &Verifier{secrets: secrets, now: time.Now}
}

// Claims are the session token's claims (docs/protocol.md, "authenticate"),
// decoded once. Profile is the profile claim's JSON text as the token has
// it (nil when absent): NewUser checks it and keeps it as an op.Profile.
type Claims struct {
	UID     string          `json:"uid"`
	Traits  []string        `json:"traits"`
	Profile json.RawMessage `json:"profile"`
	jwt.RegisteredClaims
}

// Verify parses and validates token. It returns op.CodeExpiredToken for an
// expired token and op.CodeInvalidToken for every other defect, including
// alg "none" and any algorithm other than HS256.
func (v *Verifier) Verify(token string) (*Claims, *op.Error) {
	var lastErr error
	for _, s := range v.secrets {
		opts := []jwt.ParserOption{
			jwt.WithValidMethods([]string{"HS256"}),
			jwt.WithTimeFunc(v.now),
			jwt.WithExpirationRequired(),
		}
		if s.Issuer != "" {
			opts = append(opts, jwt.WithIssuer(s.Issuer))
		}
		if s.Audience != "" {
			opts = append(opts, jwt.WithAudience(s.Audience))
		}
		var c Claims
		key := s.Key
		_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil }, opts...)
		if err == nil {
			err = s.allows(&c)
		}
		if err == nil {
			if c.UID == "" {
				return nil, &op.Error{Code: op.CodeInvalidToken, Message: "token has no uid claim"}
			}
			return &c, nil
		}
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, &op.Error{Code: op.CodeExpiredToken, Message: "token expired"}
		}
		lastErr = err
	}
	msg := "token rejected"
	if lastErr != nil {
		msg = fmt.Sprintf("token rejected: %v", lastErr)
	}
	return nil, &op.Error{Code: op.CodeInvalidToken, Message: msg}
}

// Sign mints an HS256 token for uid. It is used by the `token` subcommand, the
// load generator and tests; production tokens come from the event platform.
func Sign(key []byte, uid string, traits []string, profile map[string]any, ttl time.Duration) (string, error) {
	var raw json.RawMessage
	if profile != nil {
		b, err := json.Marshal(profile)
		if err != nil {
			return "", fmt.Errorf("profile: %w", err)
		}
		raw = b
	}
	c := Claims{UID: uid, Traits: traits, Profile: raw,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl))}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
}
