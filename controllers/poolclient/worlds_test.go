package poolclient

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
)

// worldNode is a fake node's admin API for the world calls: it reports
// the pool's members and its own connections of world "w" (none: it lacks
// the world).
type worldNode struct {
	name    string
	members *[]adminapi.Member
	conns   int // -1: the world is unknown here
	put     *adminapi.PutWorld
}

func (n *worldNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, adminapi.PathPrefix)
	switch {
	case path == "pool":
		_ = json.NewEncoder(w).Encode(adminapi.PoolStatus{Node: adminapi.Member{Name: n.name}, Members: *n.members})
	case path == "worlds/w" && r.Method == http.MethodPut:
		n.put = &adminapi.PutWorld{}
		_ = json.NewDecoder(r.Body).Decode(n.put)
		_ = json.NewEncoder(w).Encode(adminapi.WorldStatus{ID: "w", Rooms: 2, Node: n.name, Change: "created"})
	case path == "worlds/w" && r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case path == "worlds/w" && n.conns >= 0:
		_ = json.NewEncoder(w).Encode(adminapi.WorldStatus{ID: "w", Rooms: 2, Connections: n.conns, Node: n.name})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":"world.unknown","message":"no such world"}`))
	}
}

// TestWorldEverywhere: the world's status is asked of every member the pool
// reports, at its admin address; connections are summed over those that
// answered, members without the world and members that do not answer are
// named.
func TestWorldEverywhere(t *testing.T) {
	var members []adminapi.Member
	nodes := []*worldNode{{name: "a", conns: 3}, {name: "b", conns: 4}, {name: "c", conns: -1}}
	var first string
	for _, n := range nodes {
		n.members = &members
		s := httptest.NewServer(n)
		t.Cleanup(s.Close)
		addr := strings.TrimPrefix(s.URL, "http://")
		members = append(members, adminapi.Member{Name: n.name, Addr: addr})
		if first == "" {
			first = addr
		}
	}
	// A member that is gone: nothing listens at its address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	members = append(members, adminapi.Member{Name: "d", Addr: l.Addr().String()})
	l.Close()

	c := newTestClient(t, []string{first})
	got, err := c.WorldEverywhere(context.Background(), "w")
	if err != nil {
		t.Fatal(err)
	}
	if got.Connections() != 7 || len(got.Members) != 2 || !slices.Equal(got.Missing, []string{"c"}) || !slices.Equal(got.Unreachable, []string{"d"}) {
		t.Fatalf("census %+v (connections %d), want 7 over a and b, c missing, d unreachable", got, got.Connections())
	}

	// PutWorld sends the spec and the secrets' values, in order.
	spec := v1alpha1.WorldSpec{DisplayName: "W", JWT: v1alpha1.WorldJWT{Secrets: []v1alpha1.SecretKeyRef{{Name: "s", Key: "k1"}, {Name: "s", Key: "k2"}}}}
	st, err := c.PutWorld(context.Background(), "w", &spec, [][]byte{[]byte("one"), []byte("two")})
	if err != nil || st.Change != "created" || nodes[0].put == nil {
		t.Fatalf("PutWorld = %+v, %v", st, err)
	}
	if p := nodes[0].put; p.Spec.DisplayName != "W" || len(p.Secrets) != 2 || string(p.Secrets[0]) != "one" || string(p.Secrets[1]) != "two" {
		t.Fatalf("the node got %+v", p)
	}
	if err := c.DeleteWorld(context.Background(), "w"); err != nil {
		t.Fatalf("DeleteWorld = %v", err)
	}
	if err := c.DeleteWorld(context.Background(), "other"); !adminapi.IsNotFound(err) {
		t.Fatalf("DeleteWorld of an unknown world = %v, want not found", err)
	}
}
