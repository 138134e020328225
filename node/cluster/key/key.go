// Package key derives the secrets of a cluster from its shared passphrase
// (--cluster-key): one key encrypts gossip, another authenticates peer
// links. Deriving both from one passphrase means an operator configures a
// single secret, while a leak of one derived key reveals neither the other
// nor the passphrase.
package key

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Size is the length of each derived key: 32 bytes, AES-256 for memberlist
// and an HMAC-SHA256 key for peer links.
const Size = 32

// salt domain-separates roomring's derivation from any other use of the
// same passphrase.
const salt = "roomring cluster key v1"

// Keys are the secrets derived from a cluster passphrase.
type Keys struct {
	// Gossip is memberlist's SecretKey: it encrypts and authenticates every
	// gossip packet and push/pull stream.
	Gossip []byte
	// Peer authenticates peer-link handshakes (HMAC-SHA256 challenge).
	Peer []byte
}

// Derive returns the keys of passphrase, which must not be empty. Every
// node given the same passphrase derives the same keys.
func Derive(passphrase string) (Keys, error) {
	if passphrase == "" {
		return Keys{}, errors.New("cluster key: empty passphrase")
	}
	g, err := hkdf.Key(sha256.New, []byte(passphrase), []byte(salt), "gossip", Size)
	if err != nil {
		return Keys{}, fmt.Errorf("derive gossip key: %w", err)
	}
	p, err := hkdf.Key(sha256.New, []byte(passphrase), []byte(salt), "peer", Size)
	if err != nil {
		return Keys{}, fmt.Errorf("derive peer key: %w", err)
	}
	return Keys{Gossip: g, Peer: p}, nil
}
