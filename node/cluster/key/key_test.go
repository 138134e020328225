package key

import (
	"bytes"
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
}
