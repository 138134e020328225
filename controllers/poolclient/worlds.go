package poolclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
)

// worldKey is the spreader's key of a world's requests: a world's requests
// all go to the same node while the pool stays the same, like a room's, and
// a world named like a room is not hashed onto the room's node.
func worldKey(id string) string { return "world/" + id }

// Worlds lists the ids of the worlds the pool serves.
func (c *Client) Worlds(ctx context.Context) ([]string, error) {
	var out adminapi.WorldList
	err := c.do(ctx, "", http.MethodGet, "worlds", nil, &out)
	return out.Worlds, err
}

// World returns a world's status as one node sees it (its connections are
// that node's only); adminapi.IsNotFound(err) when the pool lacks it.
func (c *Client) World(ctx context.Context, id string) (adminapi.WorldStatus, error) {
	var out adminapi.WorldStatus
	err := c.do(ctx, worldKey(id), http.MethodGet, "worlds/"+url.PathEscape(id), nil, &out)
	return out, err
}

// PutWorld creates or replaces a world with its JWT secrets' values (in
// the order of spec.jwt.secrets); adminapi.IsInvalid(err) when the node
// rejects the configuration.
func (c *Client) PutWorld(ctx context.Context, id string, spec *v1alpha1.WorldSpec, secrets [][]byte) (adminapi.WorldStatus, error) {
	var out adminapi.WorldStatus
	err := c.do(ctx, worldKey(id), http.MethodPut, "worlds/"+url.PathEscape(id),
		adminapi.PutWorld{Spec: *spec, Secrets: secrets}, &out)
	return out, err
}

// DeleteWorld closes a world: its clients are disconnected and its rooms
// closed; adminapi.IsNotFound(err) when the pool lacks it.
func (c *Client) DeleteWorld(ctx context.Context, id string) error {
	return c.do(ctx, worldKey(id), http.MethodDelete, "worlds/"+url.PathEscape(id), nil, nil)
}

// WorldCensus is a world's status on every member of the pool.
type WorldCensus struct {
	// Members are the answers of the members that answered, by member.
	Members []adminapi.WorldStatus
	// Missing names the members that answered without the world: it has
	// not reached them yet (the catalog is gossiped), or they lost it.
	Missing []string
	// Unreachable names the members that did not answer.
	Unreachable []string
}

// Connections sums the world's connections over the members that
// answered.
func (w WorldCensus) Connections() int {
	n := 0
	for _, m := range w.Members {
		n += m.Connections
	}
	return n
}

// WorldEverywhere asks every member of the pool — the members one node
// sees, at their admin addresses — for the world's status, so that its
// connections can be summed (each node counts its own). It fails when no
// node tells the pool's members, or when a member fails the request;
// members without the world are listed in Missing, members that do not
// answer in Unreachable.
func (c *Client) WorldEverywhere(ctx context.Context, id string) (WorldCensus, error) {
	ps, err := c.Pool(ctx)
	if err != nil {
		return WorldCensus{}, err
	}
	var out WorldCensus
	seen := make(map[string]bool, len(ps.Members))
	for _, m := range ps.Members {
		if seen[m.Name] {
			continue
		}
		seen[m.Name] = true
		var st adminapi.WorldStatus
		err := c.doAt(ctx, m.Addr, http.MethodGet, "worlds/"+url.PathEscape(id), nil, &st)
		var ae *adminapi.Error
		switch {
		case err == nil:
			out.Members = append(out.Members, st)
		case adminapi.IsNotFound(err):
			out.Missing = append(out.Missing, m.Name)
		case errors.As(err, &ae):
			return out, fmt.Errorf("member %s: %w", m.Name, err)
		default:
			out.Unreachable = append(out.Unreachable, m.Name)
		}
	}
	return out, nil
}
