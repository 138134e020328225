package nodetest

import (
	"testing"

	"github.com/roomring/roomring/controllers/poolclient"
)

// AdminClient returns a client of the admin API of the nodes at pool
// (HOST:PORT of their admin listeners) with their --admin-token token and
// the other defaults of poolclient.DefaultConfig; it is closed when the
// test ends.
func AdminClient(t testing.TB, token string, pool ...string) *poolclient.Client {
	t.Helper()
	cfg := poolclient.DefaultConfig()
	cfg.Pool, cfg.Token = pool, token
	return AdminClientWith(t, cfg)
}

// AdminClientWith returns a client of the admin API made with cfg; it is
// closed when the test ends.
func AdminClientWith(t testing.TB, cfg poolclient.Config) *poolclient.Client {
	t.Helper()
	c, err := poolclient.New(cfg)
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
