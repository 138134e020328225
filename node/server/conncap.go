package server

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// ConnLimits caps the client connections a node holds: node-wide, so that
// a node's memory (docs/benchmarks.md: a few KiB per idle connection) stays
// bounded whoever connects, and per source address, so that one address
// cannot take the node-wide allowance from everyone else. Every field is a
// documented node flag (docs/limits.md, "Connections and the HTTP surface").
type ConnLimits struct {
	// MaxConns is the node-wide cap on open client websockets (both
	// dialects); 0 means no cap.
	MaxConns int
	// MaxConnsPerIP caps the open client websockets from one source
	// address; 0 means no cap.
	MaxConnsPerIP int
	// PerIPExempt are the source networks MaxConnsPerIP does not apply to
	// (still counted against MaxConns): by default loopback, where a
	// sidecar proxy or the benchmarks' load generator connects from.
	PerIPExempt []netip.Prefix
}

// defaultPerIPExempt is the loopback networks.
var defaultPerIPExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// DefaultConnLimits returns the default caps.
func DefaultConnLimits() ConnLimits {
	return ConnLimits{MaxConns: 50_000, MaxConnsPerIP: 2_000, PerIPExempt: append([]netip.Prefix(nil), defaultPerIPExempt...)}
}

// RegisterFlags registers the caps on fs with their defaults.
func (c *ConnLimits) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConnLimits()
	*c = d
	fs.IntVar(&c.MaxConns, "max-conns", d.MaxConns, "node-wide cap on open client websockets; over it an upgrade gets HTTP 429 (0: no cap)")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", d.MaxConnsPerIP, "cap on open client websockets from one source address; over it an upgrade gets HTTP 429 (0: no cap)")
	fs.Func("max-conns-per-ip-exempt", "comma-separated networks --max-conns-per-ip does not apply to (default 127.0.0.0/8,::1/128; \"\" for none)", func(v string) error {
		p, err := parsePrefixes(v)
		if err != nil {
			return err
		}
		c.PerIPExempt = p
		return nil
	})
}

// Validate reports a configuration that cannot work.
func (c *ConnLimits) Validate() error {
	if c.MaxConns < 0 || c.MaxConnsPerIP < 0 {
		return errors.New("--max-conns and --max-conns-per-ip must not be negative")
	}
	return nil
}

func parsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--max-conns-per-ip-exempt: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// connCounter counts open client connections, node-wide and per source
// address, against ConnLimits. Its methods are safe for concurrent use;
// every successful acquire must be matched by one release of the same
// address.
type connCounter struct {
	lim   ConnLimits
	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

func newConnCounter(lim ConnLimits) *connCounter {
	return &connCounter{lim: lim, perIP: map[netip.Addr]int{}}
}

// full reports whether a connection from addr would be over a cap, and
// which ("node" or "ip").
func (k *connCounter) full(addr netip.Addr) (bool, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fullLocked(addr.Unmap())
}

func (k *connCounter) fullLocked(addr netip.Addr) (bool, string) {
	if k.lim.MaxConns > 0 && k.total >= k.lim.MaxConns {
		return true, "node"
	}
	if k.lim.MaxConnsPerIP > 0 && !k.exempt(addr) && k.perIP[addr] >= k.lim.MaxConnsPerIP {
		return true, "ip"
	}
	return false, ""
}

// acquire counts a connection from addr; false, with the cap that refused
// it, when a cap is reached.
func (k *connCounter) acquire(addr netip.Addr) (ok bool, which string) {
	addr = addr.Unmap()
	k.mu.Lock()
	defer k.mu.Unlock()
	if full, which := k.fullLocked(addr); full {
		return false, which
	}
	k.total++
	k.perIP[addr]++
	return true, ""
}

// release uncounts a connection acquired from addr.
func (k *connCounter) release(addr netip.Addr) {
	addr = addr.Unmap()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.total--
	if n := k.perIP[addr] - 1; n > 0 {
		k.perIP[addr] = n
	} else {
		delete(k.perIP, addr)
	}
}

func (k *connCounter) exempt(addr netip.Addr) bool {
	for _, p := range k.lim.PerIPExempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// closeTryAgainLater is the close code of a websocket refused by a
// connection cap after its upgrade (RFC 6455 1013).
const closeTryAgainLater = 1013

// retryAfter is the Retry-After of a 429, in seconds.
const retryAfter = "5"

// admit checks the caps before a websocket upgrade, and answers 429 with
// Retry-After (the caller writes the body) when one is reached. It counts
// nothing: serve does, once the connection is sure to be released.
func (s *Server) admit(ctx *fasthttp.RequestCtx) (netip.Addr, bool) {
	addr, _ := netip.AddrFromSlice(ctx.RemoteIP())
	addr = addr.Unmap()
	if full, which := s.caps.full(addr); full {
		s.metrics.ConnsRefused.WithLabelValues(which).Inc()
		ctx.Response.Header.Set("Retry-After", retryAfter)
		return addr, false
	}
	return addr, true
}
