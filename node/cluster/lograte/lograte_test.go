package lograte

import (
	"fmt"
	"testing"
	"time"
)

func TestOneLinePerKindPerInterval(t *testing.T) {
	clock := time.Unix(1000, 0)
	l := New(10 * time.Second)
	l.now = func() time.Time { return clock }
	if ok, n := l.Allow("bad packet"); !ok || n != 0 {
		t.Fatalf("first line: %v %d", ok, n)
	}
	for range 2049 {
		if ok, _ := l.Allow("bad packet"); ok {
			t.Fatal("a second line within the interval")
		}
	}
	if ok, _ := l.Allow("bad handshake"); !ok {
		t.Fatal("another kind held back")
	}
	clock = clock.Add(10 * time.Second)
	if ok, n := l.Allow("bad packet"); !ok || n != 2049 {
		t.Fatalf("after the interval: %v, %d suppressed, want 2049", ok, n)
	}
}

func TestKindsAreBounded(t *testing.T) {
	l := New(time.Hour)
	for i := range 1000 {
		l.Allow(fmt.Sprint("kind ", i))
	}
	if len(l.kinds) > maxKinds {
		t.Fatalf("%d kinds tracked, at most %d", len(l.kinds), maxKinds)
	}
}
