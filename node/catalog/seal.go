package catalog

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealing. A world's JWT secrets must not cross the pod network in clear
// (peer links are authenticated, not encrypted) nor sit in a shared store
// in clear. In a cluster the catalog seals them with a key every member
// derives from the cluster key: a world's record, as it is stored, handed
// to replication and given out by Records, carries World.Sealed instead
// of World.Secrets; the catalog's own copy (World, Worlds) has them in
// clear. A standalone node has no sealer and stores them as they are.

// Sealer encrypts and authenticates world secrets (AES-256-GCM, a random
// nonce before each ciphertext). It is safe for concurrent use.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer with a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("world secret sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("world secret sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

func (s *Sealer) seal(p []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(p)+s.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (it panics instead)
	return s.aead.Seal(nonce, nonce, p, []byte("roomring world secret"))
}

func (s *Sealer) open(b []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("sealed secret too short")
	}
	p, err := s.aead.Open(nil, b[:n], b[n:], []byte("roomring world secret"))
	if err != nil {
		return nil, fmt.Errorf("open sealed secret (another cluster key?): %w", err)
	}
	return p, nil
}

// sealed is w as its record carries it: secrets sealed when the catalog
// has a sealer. With the lock held (reads c.sealer).
func (c *Catalog) sealed(w *World) *World {
	if w == nil || c.sealer == nil || len(w.Secrets) == 0 {
		return w
	}
	out := w.Clone()
	out.Sealed = make([][]byte, len(w.Secrets))
	for i, s := range w.Secrets {
		out.Sealed[i] = c.sealer.seal(s)
	}
	out.Secrets = nil
	return out
}

// unsealed is a record's world with its secrets in clear. With the lock
// held.
func (c *Catalog) unsealed(w *World) (*World, error) {
	if w == nil || len(w.Sealed) == 0 {
		return w, nil
	}
	if c.sealer == nil {
		return nil, fmt.Errorf("world %s: secrets are sealed and this node has no cluster key", w.ID)
	}
	out := w.Clone()
	out.Secrets = make([][]byte, len(w.Sealed))
	for i, b := range w.Sealed {
		p, err := c.sealer.open(b)
		if err != nil {
			return nil, fmt.Errorf("world %s: %w", w.ID, err)
		}
		out.Secrets[i] = p
	}
	out.Sealed = nil
	return out, nil
}

// SetSealer makes the catalog seal world secrets from now on: it opens
// those of the worlds it loaded sealed, and stores sealed those it loaded
// in clear (a --rooms file's, applied before the node joined its
// cluster), keeping their versions. A world whose secrets it cannot open
// (sealed under another cluster key) is served without any, so no token
// verifies there until it is put again. Call it before the catalog is
// shared (the cluster does, before it connects).
func (c *Catalog) SetSealer(ctx context.Context, s *Sealer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sealer = s
	var (
		errs   []error
		reseal []Record
	)
	for id, w := range c.worlds {
		if len(w.Sealed) == 0 {
			if m, ok := c.meta[worldKey(id)]; ok {
				reseal = append(reseal, m.record(worldKey(id), nil))
			}
			continue
		}
		open, err := c.unsealed(w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.worlds[id] = open
	}
	for i := range reseal {
		wid, _ := worldIDOf(reseal[i].ID)
		reseal[i].World = c.sealed(c.worlds[wid])
	}
	if err := c.storeRecords(ctx, reseal); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
