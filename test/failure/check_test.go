package failure

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

// summary is resource.reaction.get's reply.
type summary struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

// stats are the totals of a check.
type stats struct {
	writes, acked, failed, lost int
	// landed counts the writes the store kept although their client was
	// not told they succeeded (the final value of a key is such a write).
	landedFailed, landedLost int
}

func (s stats) String() string {
	return fmt.Sprintf("%d writes: %d acknowledged, %d failed, %d lost with their connection; unacknowledged but kept: %d failed, %d lost",
		s.writes, s.acked, s.failed, s.lost, s.landedFailed, s.landedLost)
}

// check stops the load and checks every writer's record against what each
// of the nodes serves (resource.reaction.get from a fresh client) for every
// key written, and returns the totals and what the nodes serve:
//
//   - every node returns the same summary of every key, listing every
//     user (nobody is incognito; total is the number listed);
//   - a user's reaction to a key is the value of the last write of that
//     user to that key that was acknowledged, or of a later write that was
//     not acknowledged (an error reply, or none because the connection
//     died: such a write may have been stored), never an older write's nor
//     one never written; a delete's value is "no reaction". Each set writes
//     a value unique to the user, so the value names the write. Writes of a
//     user are sequential (one in flight), so a later write cannot be
//     overwritten by an earlier one unless the earlier was unacknowledged
//     (a write is acknowledged only once stored, and the owner serialises
//     the writes of a room);
//   - without any acknowledged write, the reaction is absent or the value
//     of one of the user's writes;
//   - every error reply is server.unavailable, the only failure these
//     tests may cause (anything else is a bug: server.error, a refusal).
func check(t *testing.T, l *load, nodes ...*proc) (stats, map[key]summary) {
	t.Helper()
	l.halt()
	st, users, written := tally(t, l)
	keys := slices.SortedFunc(maps.Keys(written), func(a, b key) int { return strings.Compare(a.String(), b.String()) })
	served := serve(t, keys, nodes...)
	for _, k := range keys {
		checkKey(t, k, served[k], users, &st)
	}
	return st, served
}

// tally counts the outcomes of the writers' writes, checking every error
// reply is server.unavailable and no write was left pending; it returns the
// writers by user and the keys written.
func tally(t *testing.T, l *load) (stats, map[string]*writer, map[key]bool) {
	t.Helper()
	var st stats
	users := map[string]*writer{}
	written := map[key]bool{}
	for _, w := range l.writers {
		if w.problem != nil {
			t.Fatalf("writer %s: %v", w.uid, w.problem)
		}
		users[w.uid] = w
		var wrong []write
		for _, wr := range w.writes {
			st.writes++
			written[wr.key] = true
			switch wr.outcome {
			case acked:
				st.acked++
			case failed:
				st.failed++
				if wr.code != "server.unavailable" {
					wrong = append(wrong, wr)
				}
			case lost:
				st.lost++
			default:
				t.Errorf("writer %s: %s left pending", w.uid, wr)
			}
		}
		if len(wrong) > 0 {
			t.Errorf("writer %s: %d writes refused with another code than server.unavailable, the first: %s", w.uid, len(wrong), wrong[0])
		}
	}
	return st, users, written
}

// serve returns what the nodes serve of every key, read on each of them from
// a fresh client, and checks they all serve the same.
func serve(t *testing.T, keys []key, nodes ...*proc) map[key]summary {
	t.Helper()
	var served map[key]summary
	for _, p := range nodes {
		c := nodetest.Dial(t, p.URL())
		c.Auth(map[string]any{"token": nodetest.Token(t, "observer-"+p.Name, nil, nil)})
		got := map[key]summary{}
		for _, k := range keys {
			var s summary
			if err := json.Unmarshal(c.Call("resource.reaction.get", map[string]any{"resource": k.resource, "comment": k.comment}), &s); err != nil {
				t.Fatal(err)
			}
			got[k] = s
		}
		c.Close()
		if served == nil {
			served = got
			continue
		}
		for _, k := range keys {
			if a, b := served[k], got[k]; a.Total != b.Total || !slices.Equal(a.Reactions, b.Reactions) {
				t.Errorf("%s: %s serves %+v, %s serves %+v", k, nodes[0].Name, a, p.Name, b)
			}
		}
	}
	return served
}

// checkKey checks what the nodes serve of k (s) against every user's
// writes to k.
func checkKey(t *testing.T, k key, s summary, users map[string]*writer, st *stats) {
	t.Helper()
	stored := map[string]string{}
	for _, r := range s.Reactions {
		if _, dup := stored[r[0]]; dup {
			t.Errorf("%s: %s listed twice: %v", k, r[0], s.Reactions)
		}
		stored[r[0]] = r[1]
		if users[r[0]] == nil {
			t.Errorf("%s: reaction of %s, who never wrote", k, r[0])
		}
	}
	if s.Total != len(stored) {
		t.Errorf("%s: total %d, %d listed: %+v", k, s.Total, len(stored), s)
	}
	for _, uid := range slices.Sorted(maps.Keys(users)) {
		var hist []write
		for _, wr := range users[uid].writes {
			if wr.key == k {
				hist = append(hist, wr)
			}
		}
		got, present := stored[uid]
		if err := allowed(hist, got, present, st); err != nil {
			t.Errorf("%s, %s: %v", uid, k, err)
		}
	}
}

// allowed checks that a user's reaction to a key (got, when present) is
// the value of the last acknowledged write of hist or of a later one.
func allowed(hist []write, got string, present bool, st *stats) error {
	last := -1
	for i, wr := range hist {
		if wr.outcome == acked {
			last = i
		}
	}
	from := max(last, 0)
	if last < 0 && !present {
		return nil // no write acknowledged, none kept
	}
	for j := from; j < len(hist); j++ {
		if (present && hist[j].value == got) || (!present && hist[j].value == "") {
			switch hist[j].outcome {
			case failed:
				st.landedFailed++
			case lost:
				st.landedLost++
			}
			return nil
		}
	}
	served := "no reaction"
	if present {
		served = "reaction " + got
	}
	var tail []string
	for j := max(from-3, 0); j < len(hist); j++ {
		tail = append(tail, hist[j].String())
	}
	what := "no write was acknowledged"
	if last >= 0 {
		what = "the last acknowledged write is " + hist[last].String()
	}
	return errors.New(served + " is served, but " + what + "; writes:\n\t" + strings.Join(tail, "\n\t"))
}
