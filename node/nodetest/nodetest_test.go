package nodetest

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	page := "# HELP roomring_rooms Rooms.\n# TYPE roomring_rooms gauge\nroomring_rooms 4\n\n" +
		"roomring_errors_total{code=\"room.unknown\"} 2\nroomring_latency_bucket{le=\"+Inf\"} 7\n"
	got, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"roomring_rooms": 4, `roomring_errors_total{code="room.unknown"}`: 2, `roomring_latency_bucket{le="+Inf"}`: 7}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := ParseMetrics(strings.NewReader("roomring_rooms four\n")); err == nil {
		t.Fatal("a bad value parsed")
	}
}
