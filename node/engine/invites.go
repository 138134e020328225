package engine

import (
	"context"
	"errors"
	"flag"
	"net/netip"
	"time"

	"github.com/roomring/roomring/node/ratelimit"
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

// redeemLimiter keeps the failed-redemption buckets (a ratelimit.Keyed
// by address, at most MaxAddresses of them). Safe for concurrent use; a
// nil one, or one of rate 0, limits nothing.
type redeemLimiter struct {
	cfg   InviteLimits
	now   func() time.Time
	keyed *ratelimit.Keyed[netip.Addr]
}

func newRedeemLimiter(cfg InviteLimits) *redeemLimiter {
	return &redeemLimiter{cfg: cfg, now: time.Now,
		keyed: ratelimit.NewKeyed[netip.Addr](cfg.FailuresPerMinute/60, cfg.FailuresBurst, cfg.MaxAddresses)}
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

func (l *redeemLimiter) off() bool { return l == nil || l.cfg.FailuresPerMinute == 0 }

// allow reports whether addr may try a redemption: it has a token left
// (and, for a new address, the table has room for it).
func (l *redeemLimiter) allow(addr netip.Addr) bool {
	return l.off() || l.keyed.Peek(bucketKey(addr), l.now())
}

// failed takes a token from addr for a failed redemption.
func (l *redeemLimiter) failed(addr netip.Addr) {
	if !l.off() {
		l.keyed.Charge(bucketKey(addr), l.now())
	}
}

// InviteRoom is the room an invite link's code admits to, for the node's
// /i/<code> redirect; a failed lookup from src costs src a token of the
// failed-redemption limit, as a failed authenticate does, so the link is
// no faster an oracle of valid codes. ok false: unknown, expired or
// limited.
func (e *Engine) InviteRoom(ctx context.Context, code string, src netip.Addr) (room string, ok bool) {
	if !e.redeems.allow(src) {
		return "", false
	}
	room, err := e.catalog.Redeem(ctx, code)
	if err != nil {
		e.redeems.failed(src)
		return "", false
	}
	return room, true
}

// InviteRedirect is where the world's invite links send the browser, with
// {room} and {code} to replace ("" when the world sets none).
func (e *Engine) InviteRedirect() string { return e.settings().cfg.InviteRedirect }
