package key

import (
	"bytes"
	"fmt"
	"testing"
)

func TestDerive(t *testing.T) {
	a, err := Derive("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Gossip) != Size || len(a.Peer) != Size {
		t.Fatalf("key sizes %d/%d, want %d", len(a.Gossip), len(a.Peer), Size)
	}
	if bytes.Equal(a.Gossip, a.Peer) {
		t.Fatal("gossip and peer keys are equal")
	}
	again, err := Derive("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Gossip, again.Gossip) || !bytes.Equal(a.Peer, again.Peer) {
		t.Fatal("derivation is not deterministic")
	}
	other, err := Derive("correct horse battery stapler")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Gossip, other.Gossip) || bytes.Equal(a.Peer, other.Peer) {
		t.Fatal("different passphrases derived equal keys")
	}
	if _, err := Derive(""); err == nil {
		t.Fatal("empty passphrase accepted")
	}
	if _, err := Derive("fifteen chars!!"); err == nil {
		t.Fatal("a passphrase shorter than MinLength accepted")
	}
	if _, err := Derive("sixteen chars!!!"); err != nil {
		t.Fatalf("a passphrase of MinLength refused: %v", err)
	}
}

// TestDeriveFixed pins the derivation: every node of a cluster, whatever
// its build, must derive these keys from this passphrase.
func TestDeriveFixed(t *testing.T) {
	k, err := Derive("roomring-dev-cluster-key")
	if err != nil {
		t.Fatal(err)
	}
	const gossip = "1341cb1090eee3cfb830c7f5be79e0a93fc4147d9ddfb120aa59ece5a94986cc"
	const peer = "c23d830ac9299141d362a296dcadfcf0b99275307e642207d559b96bb98b1779"
	if fmt.Sprintf("%x", k.Gossip) != gossip || fmt.Sprintf("%x", k.Peer) != peer {
		t.Fatalf("derived gossip %x peer %x, want %s %s: a change here splits clusters across versions", k.Gossip, k.Peer, gossip, peer)
	}
}
