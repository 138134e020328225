package node

import (
	"encoding/json"
	"fmt"

	"github.com/roomring/roomring/node/auth"
)

// parseWorldGrants reads --world-trait-grants (nil when not given).
func (c *Config) parseWorldGrants() (auth.Grants, error) {
	if c.WorldTraitGrants == "" {
		return nil, nil
	}
	var g auth.Grants
	if err := json.Unmarshal([]byte(c.WorldTraitGrants), &g); err != nil {
		return nil, fmt.Errorf("--world-trait-grants: %w", err)
	}
	if g == nil {
		g = auth.Grants{}
	}
	return g, nil
}

// worldGrants are the built-in world's trait grants: --world-trait-grants,
// else DevGrants with --dev, else only viewer for everyone — a node never
// makes trait admin an administrator unless told to.
func (c *Config) worldGrants() auth.Grants {
	if g, err := c.parseWorldGrants(); err == nil && g != nil {
		return g
	}
	if c.Dev {
		return auth.DevGrants()
	}
	return auth.Grants{"viewer": {}}
}
