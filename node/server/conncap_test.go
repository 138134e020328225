package server

import (
	"net/netip"
	"testing"
)

func TestConnCounter(t *testing.T) {
	lim := ConnLimits{MaxConns: 3, MaxConnsPerIP: 2, PerIPExempt: defaultPerIPExempt}
	k := newConnCounter(lim)
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	lo := netip.MustParseAddr("127.0.0.2")
	for i, want := range []bool{true, true, false} {
		if ok, _ := k.acquire(a); ok != want {
			t.Fatalf("acquire a #%d = %v, want %v", i, ok, want)
		}
	}
	if full, which := k.full(a); !full || which != "ip" {
		t.Fatalf("full(a) = %v %q, want the ip cap", full, which)
	}
	if ok, _ := k.acquire(netip.AddrFrom16(a.As16())); ok {
		t.Fatal("a as an IPv4-mapped IPv6 address escaped the per-address cap")
	}
	if ok, _ := k.acquire(lo); !ok {
		t.Fatal("loopback refused below the node-wide cap")
	}
	if ok, which := k.acquire(b); ok || which != "node" {
		t.Fatalf("acquire b = %v %q, want refused by the node cap", ok, which)
	}
	k.release(a)
	if ok, _ := k.acquire(b); !ok {
		t.Fatal("b refused after a release")
	}
	k.release(a)
	k.release(b)
	k.release(lo)
	if k.total != 0 || len(k.perIP) != 0 {
		t.Fatalf("after releasing all: total %d, %d addresses", k.total, len(k.perIP))
	}
}

func TestParsePrefixes(t *testing.T) {
	p, err := parsePrefixes(" 10.1.2.3/8, ::1/128 ,")
	if err != nil || len(p) != 2 || p[0].String() != "10.0.0.0/8" {
		t.Fatalf("parsePrefixes = %v, %v", p, err)
	}
	if _, err := parsePrefixes("nonsense"); err == nil {
		t.Fatal("nonsense parsed")
	}
}

func TestSurfaceValidate(t *testing.T) {
	s := DefaultSurface()
	if !s.Demo || s.MetricsOnAdmin || s.Validate(false) != nil {
		t.Fatalf("default surface %+v: %v", s, s.Validate(false))
	}
	s.MetricsOnAdmin = true
	if s.Validate(false) == nil || s.Validate(true) != nil {
		t.Fatal("--metrics-on-admin must need, and be fine with, an admin listener")
	}
}
