package catalog

import (
	"context"
	"strings"
	"testing"
)

// TestInviteCodeLength: --invite-code-length makes new codes longer; the
// default stays venueless' 6 and out-of-range lengths are refused.
func TestInviteCodeLength(t *testing.T) {
	c := openCatalog(t, t.TempDir())
	seed(t, c, &Room{ID: "a", Name: "Alpha"})
	c.SetInviteCodeLength(16)
	code, err := c.InviteCode(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 16 || strings.Trim(code, inviteAlphabet) != "" {
		t.Fatalf("code %q is not 16 characters of the alphabet", code)
	}
	if room, err := c.Redeem(context.Background(), code); err != nil || room != "a" {
		t.Fatalf("Redeem = %q, %v", room, err)
	}
	cfg := DefaultConfig()
	if cfg.InviteCodeLength != 6 || cfg.Validate() != nil {
		t.Fatalf("default invite code length %d (%v), want a valid 6", cfg.InviteCodeLength, cfg.Validate())
	}
	for _, n := range []int{5, maxInviteCodeLen + 1} {
		cfg.InviteCodeLength = n
		if cfg.Validate() == nil {
			t.Errorf("--invite-code-length %d accepted", n)
		}
	}
}
