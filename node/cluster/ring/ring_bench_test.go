package ring

import (
	"strconv"
	"testing"
)

// go test ./node/cluster/ring -run '^$' -bench . -benchmem

func BenchmarkOwner(b *testing.B) {
	r, err := New(DefaultConfig(), []string{"node-0", "node-1", "node-2"})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "room-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = r.Owner(keys[i&1023])
		i++
	}
}

// BenchmarkNew is the cost of a membership change: a new snapshot.
func BenchmarkNew(b *testing.B) {
	members := []string{"node-0", "node-1", "node-2", "node-3", "node-4"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(DefaultConfig(), members); err != nil {
			b.Fatal(err)
		}
	}
}
