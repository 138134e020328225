package engine

import (
	"net/netip"
	"testing"
	"time"
)

func TestRedeemLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRedeemLimiter(InviteLimits{FailuresPerMinute: 1, FailuresBurst: 2, MaxAddresses: 2})
	l.now = func() time.Time { return now }
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.3")
	for i := 0; i < 2; i++ {
		if !l.allow(a) {
			t.Fatalf("failure %d of the burst refused", i)
		}
		l.failed(a)
	}
	if l.allow(a) {
		t.Fatal("allowed past the burst")
	}
	if !l.allow(netip.MustParseAddr("10.0.0.2")) {
		t.Fatal("another address refused")
	}
	now = now.Add(time.Minute)
	if !l.allow(a) {
		t.Fatal("refused after a refill")
	}
	// One IPv6 /64 is one client.
	l.failed(b)
	l.failed(netip.MustParseAddr("2001:db8::2"))
	if l.allow(netip.MustParseAddr("2001:db8::3")) {
		t.Fatal("a /64 escaped the limit by changing addresses")
	}
	// Two addresses tracked, both refilling: a third is refused until one
	// has refilled.
	if l.allow(c) {
		t.Fatal("a new address allowed with the table full of refilling buckets")
	}
	now = now.Add(2 * time.Minute)
	if !l.allow(c) {
		t.Fatal("a new address refused after the buckets refilled")
	}
	var off *redeemLimiter
	if !off.allow(a) || !newRedeemLimiter(InviteLimits{FailuresBurst: 1, MaxAddresses: 1}).allow(a) {
		t.Fatal("a disabled limiter refused")
	}
}
