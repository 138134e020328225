package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// DecodeRoom reads a room from its JSON form (the form Equal compares and
// the admin API carries in adminapi.RoomStatus.Config).
func DecodeRoom(b []byte) (*Room, error) {
	var r Room
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode room: %w", err)
	}
	return &r, nil
}
