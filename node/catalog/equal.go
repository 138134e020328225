package catalog

import (
	"bytes"
	"encoding/json"
)

// Equal reports whether r and o are the same configuration (compared in
// their JSON form, so a room read back from the store or the wire equals
// the room written).
func (r *Room) Equal(o *Room) bool {
	if r == nil || o == nil {
		return r == o
	}
	a, erra := json.Marshal(r)
	b, errb := json.Marshal(o)
	return erra == nil && errb == nil && bytes.Equal(a, b)
}
