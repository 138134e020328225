// Package admin is a node's control surface for the operator: an HTTP API
// under /internal/v1/ on the node's admin listener (--admin-listen; without
// it, the client listener), authenticated with a shared
// bearer token, through which the operator pushes Room specs onto the pool,
// closes rooms, and reads where each room lives and how many viewers it has.
//
//	GET    /internal/v1/pool         this node, its incarnation and the live members
//	GET    /internal/v1/rooms        the ids of the rooms the node serves
//	GET    /internal/v1/rooms/{id}   the room's config, owner node and viewer count
//	PUT    /internal/v1/rooms/{id}   {"spec": <Room spec>}: create or replace the room
//	DELETE /internal/v1/rooms/{id}   close the room: its members get room.delete
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
)

// PathPrefix is where the admin API is served.
const PathPrefix = "/internal/v1/"

// TokenEnv is the environment variable that supplies the admin token to
// both the node (--admin-token) and the operator (--pool-token).
const TokenEnv = "ROOMRING_ADMIN_TOKEN"

// MinTokenLen is the shortest admin token accepted.
const MinTokenLen = 16

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
	fs.StringVar(&c.Token, "admin-token", "", "bearer token of the operator's admin API under "+PathPrefix+" (env "+TokenEnv+"; empty: the admin API is off)")
	fs.StringVar(&c.Listen, "admin-listen", "", "serve the admin API on this address only, and not on --listen (empty: on --listen, which exposes it wherever clients reach the node)")
}

// Complete fills the token from the environment when no flag gave one.
func (c *Config) Complete() {
	if c.Token == "" {
		c.Token = os.Getenv(TokenEnv)
	}
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	if c.Token != "" && len(c.Token) < MinTokenLen {
		return errors.New("--admin-token must be at least 16 characters")
	}
	return nil
}
