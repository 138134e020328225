package loadgen

import (
	"fmt"
	"io"
	"strings"
)

// WriteRooms writes Room manifests (the format of `roomring node --rooms`)
// for the rooms of a run, so a node serves them: each room's id is also its
// name. The viewer list is off, as for an event's big rooms: moderators get
// no room.viewer.added for every member who enters.
func WriteRooms(w io.Writer, ids []string) error {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "apiVersion: roomring.dev/v1alpha1\nkind: Room\nmetadata:\n  name: %s\nspec:\n  id: %s\n  displayName: Load test %s\n  sortingPriority: %d\n  viewers: false\n",
			id, id, id, i+1)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write rooms: %w", err)
	}
	return nil
}
