package catalog

import (
	"strings"
	"testing"
)

func TestReordered(t *testing.T) {
	rooms := []*Room{{ID: "c", Name: "C", SortingPriority: 3}, {ID: "a", Name: "A", SortingPriority: 1}, {ID: "b", Name: "B", SortingPriority: 2}}
	got := Reordered(rooms, []string{"c", "nope", "c"})
	if o := strings.Join(order(got), ","); o != "c,a,b" {
		t.Fatalf("order %s, want c,a,b", o)
	}
	if rooms[0].ID != "c" || rooms[1].ID != "a" {
		t.Fatal("Reordered modified its argument")
	}
}
