// Package poolclient is the operator's client of the pool's admin API
// (api/adminapi): it finds the nodes behind the --pool addresses, sends each
// request to a node that answers, and returns the API's errors as
// *adminapi.Error.
package poolclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/api/v1alpha1"
)

// Config configures the operator's client of the pool's admin API.
type Config struct {
	// Pool lists HOST:PORT addresses of nodes' admin API listeners
	// (--admin-listen, else their HTTP listeners). Each host is resolved to
	// all of its addresses, so the name of a headless Service
	// (roomring-pool.roomring.svc:9091) reaches every ready node, and
	// 127.0.0.1:8080 one local node. Every entry must reach the same pool.
	Pool []string
	// Token is the nodes' --admin-token.
	Token string
	// Timeout bounds each request to a node.
	Timeout time.Duration
	// ResolveInterval is how long resolved addresses are reused before the
	// hosts are resolved again.
	ResolveInterval time.Duration
	// MaxResponseBytes bounds a response body.
	MaxResponseBytes int64
}

// DefaultConfig returns the defaults of the client's settings.
func DefaultConfig() Config {
	return Config{Timeout: 5 * time.Second, ResolveInterval: 5 * time.Second, MaxResponseBytes: 4 << 20}
}

// RegisterFlags registers the client's flags on fs, with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	*c = d
	fs.Func("pool", "nodes' admin API listeners (--admin-listen, else --listen) HOST:PORT[,HOST:PORT...]; a host is resolved to all its addresses, so a headless Service name reaches every node (repeatable; also --join)", c.addPool)
	fs.Func("join", "alias of --pool", c.addPool)
	fs.StringVar(&c.Token, "pool-token", "", "the nodes' --admin-token (env "+adminapi.TokenEnv+")")
	fs.DurationVar(&c.Timeout, "pool-timeout", d.Timeout, "timeout of each admin API request to a node")
	fs.DurationVar(&c.ResolveInterval, "pool-resolve-interval", d.ResolveInterval, "how long resolved pool addresses are reused before DNS is asked again")
	fs.Int64Var(&c.MaxResponseBytes, "pool-max-response-bytes", d.MaxResponseBytes, "largest admin API response read from a node")
}

func (c *Config) addPool(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.Pool = append(c.Pool, p)
		}
	}
	return nil
}

// Complete fills the token from the environment when no flag gave one.
func (c *Config) Complete() {
	if c.Token == "" {
		c.Token = os.Getenv(adminapi.TokenEnv)
	}
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Pool) == 0 {
		errs = append(errs, errors.New("--pool is required: the nodes' HOST:PORT (or a headless Service's)"))
	}
	for _, p := range c.Pool {
		if _, port, err := net.SplitHostPort(p); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("--pool %q: want HOST:PORT", p))
		}
	}
	if len(c.Token) < adminapi.MinTokenLen {
		errs = append(errs, fmt.Errorf("--pool-token (or %s) must be at least %d characters", adminapi.TokenEnv, adminapi.MinTokenLen))
	}
	if c.Timeout <= 0 || c.ResolveInterval <= 0 || c.MaxResponseBytes <= 0 {
		errs = append(errs, errors.New("--pool-timeout, --pool-resolve-interval and --pool-max-response-bytes must be positive"))
	}
	return errors.Join(errs...)
}

// Client talks to a pool's admin API. Requests spread over the pool's
// nodes (spreader: a room's requests to the room's node by hashing, the
// others in turn); when a node cannot be reached the others are tried in
// turn. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	res    *net.Resolver
	spread *spreader

	mu         sync.Mutex
	addrs      []string
	resolvedAt time.Time
}

// New returns a client of the pool cfg describes.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// No keep-alive: a node that shuts down waits for its open
	// connections, and a connection the client dialed but never used (the
	// transport dials while it waits for an idle one) would hold it up until
	// the node's shutdown timeout. A request per connection costs little at
	// the operator's rate (a GET per Room per status interval).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &Client{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout, Transport: tr}, res: net.DefaultResolver,
		spread: newSpreader(cfg.ResolveInterval)}, nil
}

// Close closes the client's idle connections to the nodes (a node waits
// for open connections when it shuts down).
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Endpoints resolves the pool's addresses (HOST:PORT of every node), reusing
// the previous answer for ResolveInterval.
func (c *Client) Endpoints(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	if c.addrs != nil && time.Since(c.resolvedAt) < c.cfg.ResolveInterval {
		out := slices.Clone(c.addrs)
		c.mu.Unlock()
		return out, nil
	}
	c.mu.Unlock()
	var out []string
	var errs []error
	for _, p := range c.cfg.Pool {
		host, port, _ := net.SplitHostPort(p)
		if net.ParseIP(host) != nil {
			out = append(out, p)
			continue
		}
		ips, err := c.res.LookupHost(ctx, host)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolve %s: %w", host, err))
			continue
		}
		for _, ip := range ips {
			out = append(out, net.JoinHostPort(ip, port))
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no pool address: %w", errors.Join(errs...))
	}
	c.mu.Lock()
	c.addrs, c.resolvedAt = out, time.Now()
	c.mu.Unlock()
	return slices.Clone(out), nil
}

// Pool returns the pool as one node sees it.
func (c *Client) Pool(ctx context.Context) (adminapi.PoolStatus, error) {
	var out adminapi.PoolStatus
	err := c.do(ctx, "", http.MethodGet, "pool", nil, &out)
	return out, err
}

// PoolAt returns the pool as the node at addr sees it.
func (c *Client) PoolAt(ctx context.Context, addr string) (adminapi.PoolStatus, error) {
	var out adminapi.PoolStatus
	err := c.doAt(ctx, addr, http.MethodGet, "pool", nil, &out)
	return out, err
}

// Rooms lists the ids of the rooms the pool serves.
func (c *Client) Rooms(ctx context.Context) ([]string, error) {
	var out adminapi.RoomList
	err := c.do(ctx, "", http.MethodGet, "rooms", nil, &out)
	return out.Rooms, err
}

// Room returns a room's status; adminapi.IsNotFound(err) when the pool lacks it.
func (c *Client) Room(ctx context.Context, id string) (adminapi.RoomStatus, error) {
	var out adminapi.RoomStatus
	err := c.do(ctx, id, http.MethodGet, "rooms/"+url.PathEscape(id), nil, &out)
	return out, err
}

// PutRoom creates or replaces a room; adminapi.IsInvalid(err) when the node rejects
// its configuration.
func (c *Client) PutRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error) {
	var out adminapi.RoomStatus
	err := c.do(ctx, id, http.MethodPut, "rooms/"+url.PathEscape(id), adminapi.PutRoom{Spec: *spec}, &out)
	return out, err
}

// ReplaceRoom is PutRoom of a room the caller read from the pool: it
// replaces the room only while the pool still serves it (If-Match: *), and
// adminapi.IsPreconditionFailed(err) when the room was closed since, so a
// push from an old read never reopens a deleted room.
func (c *Client) ReplaceRoom(ctx context.Context, id string, spec *v1alpha1.RoomSpec) (adminapi.RoomStatus, error) {
	var out adminapi.RoomStatus
	err := c.do(ctx, id, http.MethodPut, "rooms/"+url.PathEscape(id), adminapi.PutRoom{Spec: *spec}, &out,
		header{"If-Match", "*"})
	return out, err
}

// header is a request header of do.
type header struct{ key, value string }

// DeleteRoom closes a room; adminapi.IsNotFound(err) when the pool lacks it.
func (c *Client) DeleteRoom(ctx context.Context, id string) error {
	return c.do(ctx, id, http.MethodDelete, "rooms/"+url.PathEscape(id), nil, nil)
}

// do sends a request about room ("" for none) to the nodes in the
// spreader's order until one answers. An answer with an error status is
// returned as *adminapi.Error without trying other nodes.
func (c *Client) do(ctx context.Context, room, method, path string, in, out any, hdr ...header) error {
	addrs, err := c.Endpoints(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range c.spread.order(addrs, room) {
		err := c.doAt(ctx, a, method, path, in, out, hdr...)
		var ae *adminapi.Error
		if err == nil || errors.As(err, &ae) {
			c.spread.answered(a, true)
			return err
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break // the caller gave up: no fault of the node's
		}
		c.spread.answered(a, false)
	}
	return fmt.Errorf("no node of the pool answered: %w", errors.Join(errs...))
}

func (c *Client) doAt(ctx context.Context, addr, method, path string, in, out any, hdr ...header) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+adminapi.PathPrefix+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	for _, h := range hdr {
		req.Header.Set(h.key, h.value)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, addr, err)
	}
	if resp.StatusCode >= 300 {
		e := &adminapi.Error{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(b))
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, addr, err)
	}
	return nil
}
