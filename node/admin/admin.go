// Package admin serves a node's admin API (the contract is api/adminapi)
// under /internal/v1/ on the node's admin listener (--admin-listen; without
// it, the client listener), authenticated with a shared bearer token,
// through which the operator pushes Room specs onto the pool, closes rooms,
// and reads where each room lives and how many viewers it has.
//
// Any node of a pool accepts every request: a standalone node is a pool of
// one, and in a cluster the catalog is gossiped to every node while owners
// and viewer counts come from the ring (the Pool interface). See
// docs/operator.md.
package admin

import (
	"errors"
	"flag"
	"os"

	"github.com/roomring/roomring/api/adminapi"
)

// Config configures a node's admin API.
type Config struct {
	// Token is the bearer token the operator must present. Empty disables
	// the admin API (every request gets 403 admin.disabled).
	Token string
	// Listen is the address of a listener that serves the admin API only.
	// When set, the client listener answers 404 under /internal/; empty
	// serves the admin API on the client listener (standalone development),
	// where a public load balancer would expose it.
	Listen string
}

// RegisterFlags registers the admin API's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Token, "admin-token", "", "bearer token of the operator's admin API under "+adminapi.PathPrefix+" (env "+adminapi.TokenEnv+"; empty: the admin API is off)")
	fs.StringVar(&c.Listen, "admin-listen", "", "serve the admin API on this address only, and not on --listen (empty: on --listen, which exposes it wherever clients reach the node)")
}

// Complete fills the token from the environment when no flag gave one.
func (c *Config) Complete() {
	if c.Token == "" {
		c.Token = os.Getenv(adminapi.TokenEnv)
	}
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	if c.Token != "" && len(c.Token) < adminapi.MinTokenLen {
		return errors.New("--admin-token must be at least 16 characters")
	}
	return nil
}
