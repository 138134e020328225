package announce

import (
	"slices"
	"testing"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

type recorder []string

func (r *recorder) Deliver(ev *op.Event) { *r = append(*r, string(ev.Kind)+":"+ev.Room) }

func TestChanges(t *testing.T) {
	a := &catalog.Room{ID: "a", Name: "A"}
	renamed := &catalog.Room{ID: "a", Name: "A2"}
	scheduled := &catalog.Room{ID: "a", Name: "A", ScheduleData: map[string]any{"title": "T"}}
	for _, tc := range []struct {
		name    string
		changes []catalog.Change
		want    []string
	}{
		{"create", []catalog.Change{{ID: "a", After: a, Cause: catalog.CauseCreate}}, []string{"room.create:a"}},
		{"delete", []catalog.Change{{ID: "a", Before: a, Cause: catalog.CauseDelete}}, []string{"room.delete:a"}},
		{"tombstone of an unknown room", []catalog.Change{{ID: "a", Cause: catalog.CauseDelete}}, nil},
		{"one world.updated per batch", []catalog.Change{
			{ID: "a", Before: a, After: renamed, Cause: catalog.CauseManifest},
			{ID: "b", Before: a, After: renamed, Cause: catalog.CauseUpdate}}, []string{"world.updated:"}},
		{"same configuration", []catalog.Change{{ID: "a", Before: a, After: a, Cause: catalog.CauseManifest}}, nil},
		{"a patch always", []catalog.Change{{ID: "a", Before: a, After: a, Cause: catalog.CauseUpdate}}, []string{"world.updated:"}},
		{"schedule only", []catalog.Change{{ID: "a", Before: a, After: scheduled, Cause: catalog.CauseSchedule}}, nil},
		{"schedule in a manifest", []catalog.Change{{ID: "a", Before: a, After: scheduled, Cause: catalog.CauseManifest}}, []string{"world.updated:"}},
	} {
		var got recorder
		New(&got, 0).Changes(tc.changes...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
