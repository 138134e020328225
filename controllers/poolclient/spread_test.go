package poolclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
)

// counter is a fake node counting its requests: per path, and which room
// paths it saw.
type counter struct {
	mu    sync.Mutex
	total int
	rooms map[string]int
	pool  int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.total++
	path := strings.TrimPrefix(r.URL.Path, adminapi.PathPrefix)
	if id, ok := strings.CutPrefix(path, "rooms/"); ok {
		c.rooms[id]++
	} else {
		c.pool++
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{}`)
}

func (c *counter) counts() (total, pool int, rooms map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.rooms))
	for k, v := range c.rooms {
		out[k] = v
	}
	return c.total, c.pool, out
}

func fakePool(t *testing.T, n int) ([]*counter, []string) {
	t.Helper()
	var cs []*counter
	var addrs []string
	for range n {
		c := &counter{rooms: map[string]int{}}
		s := httptest.NewServer(c)
		t.Cleanup(s.Close)
		cs = append(cs, c)
		addrs = append(addrs, strings.TrimPrefix(s.URL, "http://"))
	}
	return cs, addrs
}

func newTestClient(t *testing.T, addrs []string) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Pool, cfg.Token, cfg.ResolveInterval = addrs, strings.Repeat("t", adminapi.MinTokenLen), time.Minute
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestSpreadOverPool: room requests spread over the nodes, each room's on
// one node; requests about no room go round the nodes in turn.
func TestSpreadOverPool(t *testing.T) {
	nodes, addrs := fakePool(t, 3)
	c := newTestClient(t, addrs)
	ctx := context.Background()
	const rooms = 300
	for i := range rooms {
		id := fmt.Sprintf("room-%d", i)
		if _, err := c.PutRoom(ctx, id, &v1alpha1.RoomSpec{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Room(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteRoom(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for range 30 {
		if _, err := c.Pool(ctx); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for i, n := range nodes {
		total, pool, rs := n.counts()
		if pool != 10 {
			t.Errorf("node %d: %d pool requests of 30, want 10 (round-robin)", i, pool)
		}
		if len(rs) < rooms/6 {
			t.Errorf("node %d: %d rooms of %d, want about a third", i, len(rs), rooms)
		}
		for id, k := range rs {
			if k != 3 {
				t.Errorf("node %d: %d of room %s's 3 requests, want all (a room's requests go to one node)", i, k, id)
			}
			seen[id]++
		}
		t.Logf("node %d: %d requests, %d rooms", i, total, len(rs))
	}
	if len(seen) != rooms {
		t.Fatalf("%d rooms seen, want %d", len(seen), rooms)
	}
}

// TestSpreadFallback: a node that does not answer is skipped (the request
// goes on to another node) and then tried last, so it costs one failed
// attempt, not one per request.
func TestSpreadFallback(t *testing.T) {
	nodes, addrs := fakePool(t, 2)
	var deadHits atomic.Int64
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadHits.Add(1)
		panic(http.ErrAbortHandler) // the connection drops without an answer
	}))
	t.Cleanup(dead.Close)
	c := newTestClient(t, append(addrs, strings.TrimPrefix(dead.URL, "http://")))
	ctx := context.Background()
	for i := range 60 {
		if _, err := c.Room(ctx, fmt.Sprintf("room-%d", i)); err != nil {
			t.Fatalf("room-%d: %v", i, err)
		}
		if _, err := c.Pool(ctx); err != nil {
			t.Fatalf("pool: %v", err)
		}
	}
	if hits := deadHits.Load(); hits < 1 || hits > 2 {
		t.Fatalf("the dead node got %d requests, want 1 (then it goes last)", hits)
	}
	for i, n := range nodes {
		if total, _, _ := n.counts(); total < 30 {
			t.Errorf("node %d: %d requests of 120, want its share", i, total)
		}
	}
}

// TestSpreaderOrder: the order's rules on their own, with a fake clock.
func TestSpreaderOrder(t *testing.T) {
	s := newSpreader(time.Second)
	now := time.Unix(0, 0)
	s.now = func() time.Time { return now }
	addrs := []string{"a:1", "b:1", "c:1"}
	first := s.order(append([]string(nil), addrs...), "room_1")[0]
	for range 5 {
		if got := s.order([]string{"c:1", "a:1", "b:1"}, "room_1")[0]; got != first {
			t.Fatalf("room_1 first to %s, then %s", first, got)
		}
	}
	s.answered(first, false)
	if got := s.order(append([]string(nil), addrs...), "room_1"); got[2] != first {
		t.Fatalf("order after %s failed = %v, want it last", first, got)
	}
	now = now.Add(time.Second)
	if got := s.order(append([]string(nil), addrs...), "room_1")[0]; got != first {
		t.Fatalf("after the hold, room_1 first to %s, want %s again", got, first)
	}
	s.answered(first, false)
	s.answered(first, true)
	if got := s.order(append([]string(nil), addrs...), "room_1")[0]; got != first {
		t.Fatalf("after an answer, room_1 first to %s, want %s", got, first)
	}
	var firsts []string
	for range 3 {
		firsts = append(firsts, s.order(append([]string(nil), addrs...), "")[0])
	}
	if strings.Join(firsts, ",") != "a:1,b:1,c:1" && strings.Join(firsts, ",") != "b:1,c:1,a:1" &&
		strings.Join(firsts, ",") != "c:1,a:1,b:1" {
		t.Fatalf("round-robin firsts = %v, want each node in turn", firsts)
	}
}
