package catalog

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/roomring/roomring/node/op"
)

// Limits of schedule data: it is stored with the room, replicated to every
// node and sent in every authenticated frame, so it is small and flat.
const (
	// MaxScheduleSessionLen bounds a string session id, in characters.
	MaxScheduleSessionLen = 64
	// MaxScheduleTitleLen bounds the title, in characters.
	MaxScheduleTitleLen = 200
	// MaxScheduleDataBytes bounds the schedule data serialized as JSON.
	MaxScheduleDataBytes = 1024
)

// scheduleKeys are the keys schedule data may have, with the check of each
// key's value (nil is always allowed: the key is unset).
var scheduleKeys = map[string]func(any) string{
	"session":        checkSession,
	"title":          checkTitle,
	"computeSession": checkComputeSession, // venueless' web app sends {"computeSession": true}
}

// scheduleKeyList is the allowed keys in the order messages name them.
var scheduleKeyList = slices.Sorted(maps.Keys(scheduleKeys))

// ValidateSchedule accepts flat schedule data: session (a number or a
// string of at most MaxScheduleSessionLen characters), title (a string of
// at most MaxScheduleTitleLen characters) and computeSession (a boolean),
// each possibly null, MaxScheduleDataBytes in all. It checks the keys in
// sorted order, so the message about the first bad one is always the same.
func ValidateSchedule(d map[string]any) *op.Error {
	for _, k := range slices.Sorted(maps.Keys(d)) {
		check, ok := scheduleKeys[k]
		if !ok {
			return op.Errorf(op.CodeUnknownSchedule, "unknown schedule data key %q (allowed: %v)", k, scheduleKeyList)
		}
		if d[k] == nil {
			continue
		}
		if msg := check(d[k]); msg != "" {
			return op.Errorf(op.CodeUnknownSchedule, "schedule data %s %s", k, msg)
		}
	}
	if b, err := json.Marshal(d); err != nil || len(b) > MaxScheduleDataBytes {
		return op.Errorf(op.CodeUnknownSchedule, "schedule data must be at most %d bytes as JSON", MaxScheduleDataBytes)
	}
	return nil
}

func checkSession(v any) string {
	switch v := v.(type) {
	case string:
		if utf8.RuneCountInString(v) > MaxScheduleSessionLen {
			return "must be at most " + strconv.Itoa(MaxScheduleSessionLen) + " characters"
		}
		return ""
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "must be a finite number"
		}
		return ""
	case json.Number, int, int64:
		return ""
	}
	return "must be a number or a string"
}

func checkTitle(v any) string {
	s, ok := v.(string)
	if !ok {
		return "must be a string"
	}
	if utf8.RuneCountInString(s) > MaxScheduleTitleLen {
		return "must be at most " + strconv.Itoa(MaxScheduleTitleLen) + " characters"
	}
	return ""
}

func checkComputeSession(v any) string {
	if _, ok := v.(bool); !ok {
		return "must be a boolean"
	}
	return ""
}
