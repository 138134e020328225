// Package key derives the secrets of a cluster from its shared passphrase
// (--cluster-key): one key encrypts gossip, another authenticates peer
// links. Deriving both from one passphrase means an operator configures a
// single secret, while a leak of one derived key reveals neither the other
// nor the passphrase. The passphrase is stretched first (scrypt), so that
// each guess of someone who captured gossip traffic costs tens of
// milliseconds and 32 MiB instead of a hash.
package key

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/scrypt"
)

// Size is the length of each derived key: 32 bytes, AES-256 for memberlist
// and an HMAC-SHA256 key for peer links.
const Size = 32

// MinLength is the shortest passphrase accepted, in bytes.
const MinLength = 16

// salt domain-separates roomring's derivation from any other use of the
// same passphrase. It is fixed, so that every node derives the same keys
// from the passphrase alone.
const salt = "roomring cluster key v2"

// The scrypt cost: N=2^15, r=8, p=1, the parameters recommended for
// interactive logins (32 MiB, tens of milliseconds, once per node start).
const (
	scryptN = 1 << 15
	scryptR = 8
	scryptP = 1
)

// Keys are the secrets derived from a cluster passphrase.
type Keys struct {
	// Gossip is memberlist's SecretKey: it encrypts and authenticates every
	// gossip packet and push/pull stream.
	Gossip []byte
	// Peer authenticates peer-link handshakes (HMAC-SHA256 challenge).
	Peer []byte
	// Catalog seals the worlds' JWT secrets in catalog records (AES-256-GCM),
	// which cross the peer links and sit in the shared store.
	Catalog []byte
}

// Derive returns the keys of passphrase, which must be at least MinLength
// bytes. Every node given the same passphrase derives the same keys.
func Derive(passphrase string) (Keys, error) {
	if len(passphrase) < MinLength {
		return Keys{}, fmt.Errorf("cluster key: the passphrase must be at least %d characters, it has %d", MinLength, len(passphrase))
	}
	stretched, err := scrypt.Key([]byte(passphrase), []byte(salt), scryptN, scryptR, scryptP, Size)
	if err != nil {
		return Keys{}, fmt.Errorf("stretch cluster key: %w", err)
	}
	g, err := hkdf.Key(sha256.New, stretched, []byte(salt), "gossip", Size)
	if err != nil {
		return Keys{}, fmt.Errorf("derive gossip key: %w", err)
	}
	p, err := hkdf.Key(sha256.New, stretched, []byte(salt), "peer", Size)
	if err != nil {
		return Keys{}, fmt.Errorf("derive peer key: %w", err)
	}
	c, err := hkdf.Key(sha256.New, stretched, []byte(salt), "catalog", Size)
	if err != nil {
		return Keys{}, fmt.Errorf("derive catalog key: %w", err)
	}
	return Keys{Gossip: g, Peer: p, Catalog: c}, nil
}
