package manifest

import (
	"testing"

	"github.com/roomring/roomring/node/catalog"
)

const stage = `apiVersion: roomring.dev/v1alpha1
kind: Room
metadata:
  name: stage
spec:
  displayName: Stage
  sortingPriority: 1
  scheduleData:
    title: Opening
`

func parse(t *testing.T, yaml string) []*catalog.Room {
	t.Helper()
	f, err := Parse([]byte(yaml), DirSecrets(""))
	if err != nil {
		t.Fatal(err)
	}
	return f.Rooms
}

func TestManifestHashIgnoresFormatting(t *testing.T) {
	a := parse(t, stage)[0]
	b := parse(t, `# the same room, written differently
apiVersion: roomring.dev/v1alpha1
kind: Room
metadata: {name: stage}
spec:
  sortingPriority: 1
  scheduleData: {title: Opening}
  displayName: "Stage"
`)[0]
	ha, err := catalog.ManifestHash(a)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := catalog.ManifestHash(b)
	if ha != hb || len(ha) != 2*16 {
		t.Fatalf("hashes %q and %q, want equal and %d hex digits", ha, hb, 2*16)
	}
	b.Description = "changed"
	if hc, _ := catalog.ManifestHash(b); hc == ha {
		t.Fatal("a changed manifest has the same hash")
	}
}
