package venueless

import (
	"context"
	"fmt"
	"testing"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/store/bolt"
)

// BenchmarkAuthenticatedWorld is the world view of one authentication —
// built and encoded (cache 0) or taken from the engine's cache — and the
// authenticated push composed around it, for the load generator's world:
// lg-big and lg-1..50 (51 rooms), dev grants, a user without traits.
//
//	go test ./node/protocol/venueless -run '^$' -bench AuthenticatedWorld -benchmem
func BenchmarkAuthenticatedWorld(b *testing.B) {
	for _, rooms := range []int{51, 500} {
		for _, entries := range []int{0, engine.DefaultWorldViewCacheEntries} {
			name := fmt.Sprintf("rooms=%d/built", rooms)
			if entries > 0 {
				name = fmt.Sprintf("rooms=%d/cached", rooms)
			}
			b.Run(name, func(b *testing.B) {
				st, err := bolt.Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				ctx := context.Background()
				cat, err := catalog.Open(ctx, st)
				if err != nil {
					b.Fatal(err)
				}
				rs := []*catalog.Room{{ID: "lg-big", Name: "lg-big"}}
				for i := 1; i < rooms; i++ {
					rs = append(rs, &catalog.Room{ID: fmt.Sprint("lg-", i), Name: fmt.Sprint("lg-", i)})
				}
				if err := cat.Upsert(ctx, rs...); err != nil {
					b.Fatal(err)
				}
				e := engine.New(engine.Config{WorldID: "default", Builtin: true, WorldViewCacheEntries: entries},
					engine.Deps{Policy: &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: auth.DevGrants()},
						Catalog: cat, Edge: edge.New("local"), EncodeWorld: EncodeWorldUpdated})
				u := &auth.User{ID: "lg-1"}
				c := e.NewClient(u, nil)
				b.SetBytes(int64(len(welcome(u, c.EncodedWorld()))))
				b.ReportAllocs()
				for b.Loop() {
					welcome(u, c.EncodedWorld())
				}
			})
		}
	}
}
