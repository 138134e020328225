package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/roomring/roomring/node/op"
)

// DefaultInviteRedirect is where an anonymous invite link (/i/<code>)
// sends the browser: the route of venueless' web app that redeems an
// invite (its main.js reads the code from the fragment on the
// standalone:anonymous route).
const DefaultInviteRedirect = "/standalone/{room}/anonymous#invite={code}"

// ValidateInviteRedirect checks an invite redirect template: {code} is
// required, {room} optional; the rest is a path ("/...") or an http(s)
// URL.
func ValidateInviteRedirect(t string) error {
	if !strings.Contains(t, "{code}") {
		return fmt.Errorf("invite redirect %q has no {code}", t)
	}
	probe := strings.NewReplacer("{room}", "r", "{code}", "c").Replace(t)
	u, err := url.Parse(probe)
	if err != nil {
		return fmt.Errorf("invite redirect %q: %w", t, err)
	}
	switch {
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(probe, "//"):
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
	default:
		return fmt.Errorf("invite redirect %q is neither a path (/...) nor an http(s) URL", t)
	}
	return nil
}

// InviteRoom is the room the invite link of code admits to, asked from
// source. An unknown or expired code is auth.denied, and counts against
// source like a failed redemption (InviteLimits): the link must not be a
// faster way to guess codes than authenticate. The room may be of any
// world: the node's world registry sends the browser to the route of the
// room's world (InviteTarget).
func (e *Engine) InviteRoom(ctx context.Context, source netip.Addr, code string) (string, *op.Error) {
	if !e.redeems.allow(source) {
		return "", op.Errorf(op.CodeAuthDenied, "too many failed invite redemptions from this address; try again later")
	}
	room, err := e.catalog.Redeem(ctx, code)
	if err != nil {
		var oe *op.Error
		if errors.As(err, &oe) && oe.Code == op.CodeAuthDenied {
			e.redeems.failed(source)
		}
		return "", e.internal(ctx, "invite.redirect", err)
	}
	return room, nil
}

// InviteTarget is where this world's invite link of code, for room, sends
// the browser: the world's invite redirect (Config.InviteRedirect, or
// DefaultInviteRedirect) with {room} and {code} filled in, escaped.
func (e *Engine) InviteTarget(room, code string) string {
	t := e.settings().cfg.InviteRedirect
	if t == "" {
		t = DefaultInviteRedirect
	}
	return strings.NewReplacer("{room}", url.PathEscape(room), "{code}", url.QueryEscape(code)).Replace(t)
}
