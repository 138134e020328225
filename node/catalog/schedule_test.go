package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/op"
)

func TestValidateScheduleValues(t *testing.T) {
	deep := any("x")
	for range 50 {
		deep = map[string]any{"a": deep}
	}
	good := []map[string]any{
		nil, {}, {"session": float64(1)}, {"session": "s-1"}, {"title": "Q&A"},
		{"computeSession": true}, {"session": nil, "title": nil, "computeSession": false},
		{"session": strings.Repeat("s", MaxScheduleSessionLen), "title": strings.Repeat("t", MaxScheduleTitleLen)},
		{"session": json.Number("7")},
	}
	for _, d := range good {
		if err := ValidateSchedule(d); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	bad := map[string]map[string]any{
		"unknown key":           {"speaker": "x"},
		"nested session":        {"session": map[string]any{"a": 1}},
		"deep title":            {"title": deep},
		"list title":            {"title": []any{"a"}},
		"numeric title":         {"title": float64(3)},
		"boolean session":       {"session": true},
		"string computeSession": {"computeSession": "yes"},
		"long session":          {"session": strings.Repeat("s", MaxScheduleSessionLen+1)},
		"long title":            {"title": strings.Repeat("t", MaxScheduleTitleLen+1)},
		// Within each value's length, over the size once escaped.
		"over the size": {"title": strings.Repeat("\x01", MaxScheduleTitleLen), "session": strings.Repeat("\x01", MaxScheduleSessionLen)},
	}
	for name, d := range bad {
		err := ValidateSchedule(d)
		if err == nil || err.Code != op.CodeUnknownSchedule || err.Message == "" {
			t.Errorf("%s: %v, want %s with a message", name, err, op.CodeUnknownSchedule)
		}
	}
	r := &Room{ID: "r", Name: "R", ScheduleData: map[string]any{"title": float64(1)}}
	r.Normalize()
	if err := r.Validate(); err == nil || err.Code != op.CodeConfigInvalid || !strings.Contains(err.Message, "title must be a string") {
		t.Errorf("room with a numeric title: %v, want config.invalid naming the title", err)
	}
}

// TestValidationMessagesAreDeterministic: with several bad keys, every call
// names the same one (Go randomises map order on every walk).
func TestValidationMessagesAreDeterministic(t *testing.T) {
	d := map[string]any{"zeta": 1, "alpha": 1, "title": 3, "session": true, "mu": 1, "beta": 1, "gamma": 1}
	want := ValidateSchedule(d).Message
	if !strings.Contains(want, `"alpha"`) {
		t.Fatalf("message %q should name the first bad key in order, alpha", want)
	}
	body := map[string]json.RawMessage{"name": []byte(`1`), "description": []byte(`2`), "force_join": []byte(`"x"`),
		"show_viewers": []byte(`"x"`), "pretalx_id": []byte(`"x"`), "sorting_priority": []byte(`"x"`)}
	base := &Room{ID: "r", Name: "R"}
	base.Normalize()
	_, perr := ApplyPatch(base, body)
	if perr == nil {
		t.Fatal("bad patch applied")
	}
	for range 200 {
		if got := ValidateSchedule(d).Message; got != want {
			t.Fatalf("ValidateSchedule said %q, then %q", want, got)
		}
		if _, err := ApplyPatch(base, body); err == nil || err.Message != perr.Message {
			t.Fatalf("ApplyPatch said %q, then %v", perr.Message, err)
		}
	}
}
