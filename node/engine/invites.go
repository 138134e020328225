package engine

import (
	"errors"
	"flag"
	"net/netip"
	"sync"
	"time"
)

// InviteLimits bound failed invite redemptions per source address, so that
// guessing invite codes costs an address one attempt per refill interval:
// each address has a token bucket; a failed redemption takes a token, and
// an address without one is refused (auth.denied) before its code is even
// looked up. Successful redemptions cost nothing. Every field is a
// documented node flag (docs/limits.md).
type InviteLimits struct {
	// FailuresPerMinute is the bucket's refill rate; 0 turns the limit off.
	FailuresPerMinute float64
	// FailuresBurst is the bucket's size: failures an address may have in
	// a row before the rate applies.
	FailuresBurst int
	// MaxAddresses bounds the addresses tracked; when every tracked bucket
	// is still refilling, a new address is refused until one has refilled.
	MaxAddresses int
}

// DefaultInviteLimits returns the defaults: 20 failures in a row, then
// 10 a minute (a person mistyping a code is never refused).
func DefaultInviteLimits() InviteLimits {
	return InviteLimits{FailuresPerMinute: 10, FailuresBurst: 20, MaxAddresses: 65536}
}

// RegisterFlags registers the limits on fs with their defaults.
func (c *InviteLimits) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultInviteLimits()
	fs.Float64Var(&c.FailuresPerMinute, "invite-failures-per-minute", d.FailuresPerMinute, "failed invite redemptions one source address may make per minute, after --invite-failures-burst; over it authenticate gets auth.denied unchecked (0: no limit)")
	fs.IntVar(&c.FailuresBurst, "invite-failures-burst", d.FailuresBurst, "failed invite redemptions one source address may make in a row")
	fs.IntVar(&c.MaxAddresses, "invite-failures-max-addresses", d.MaxAddresses, "source addresses whose failed invite redemptions are tracked; beyond it new addresses are refused until a bucket refills")
}

// Validate reports limits that cannot work.
func (c *InviteLimits) Validate() error {
	if c.FailuresPerMinute < 0 || c.FailuresBurst < 1 || c.MaxAddresses < 1 {
		return errors.New("--invite-failures-per-minute must be >= 0, --invite-failures-burst and --invite-failures-max-addresses >= 1")
	}
	return nil
}

// redeemLimiter keeps the failed-redemption buckets. Safe for concurrent
// use.
type redeemLimiter struct {
	cfg InviteLimits
	now func() time.Time

	mu      sync.Mutex
	buckets map[netip.Addr]bucket
}

// bucket is an address's tokens at a time.
type bucket struct {
	tokens float64
	at     time.Time
}

func newRedeemLimiter(cfg InviteLimits) *redeemLimiter {
	return &redeemLimiter{cfg: cfg, now: time.Now, buckets: map[netip.Addr]bucket{}}
}

// bucketKey groups addresses one client may hold many of: an IPv6 /64.
func bucketKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// refill returns b's tokens at now.
func (l *redeemLimiter) refill(b bucket, now time.Time) float64 {
	t := b.tokens + now.Sub(b.at).Minutes()*l.cfg.FailuresPerMinute
	return min(t, float64(l.cfg.FailuresBurst))
}

// allow reports whether addr may try a redemption: it has a token left.
func (l *redeemLimiter) allow(addr netip.Addr) bool {
	if l == nil || l.cfg.FailuresPerMinute == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[bucketKey(addr)]
	if !ok {
		return len(l.buckets) < l.cfg.MaxAddresses || l.sweep()
	}
	return l.refill(b, l.now()) >= 1
}

// failed takes a token from addr for a failed redemption.
func (l *redeemLimiter) failed(addr netip.Addr) {
	if l == nil || l.cfg.FailuresPerMinute == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now, k := l.now(), bucketKey(addr)
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= l.cfg.MaxAddresses && !l.sweep() {
			return
		}
		b = bucket{tokens: float64(l.cfg.FailuresBurst), at: now}
	}
	l.buckets[k] = bucket{tokens: max(l.refill(b, now)-1, 0), at: now}
}

// sweep drops the buckets that have refilled (they hold nothing a new
// bucket would not) and reports whether there is room now. l.mu is held.
func (l *redeemLimiter) sweep() bool {
	now := l.now()
	for k, b := range l.buckets {
		if l.refill(b, now) >= float64(l.cfg.FailuresBurst) {
			delete(l.buckets, k)
		}
	}
	return len(l.buckets) < l.cfg.MaxAddresses
}
