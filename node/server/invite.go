package server

import (
	"context"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/roomring/roomring/node/op"
)

// serveInvite answers an anonymous invite link, /i/<code>: a redirect to
// the world's invite route with the code's room and the code
// (engine.InviteRedirect; by default venueless' web-app route
// /standalone/<room>/anonymous#invite=<code>, which the demo page serves
// too), or 404 for a code that is unknown or expired.
func (s *Server) serveInvite(ctx *fasthttp.RequestCtx, p string) {
	code := strings.TrimPrefix(p, "/i/")
	addr, _ := netip.AddrFromSlice(ctx.RemoteIP())
	// Not ctx itself: a *fasthttp.RequestCtx's Done is the server's, read
	// unsynchronised against Shutdown (a data race once a store timeout
	// derived from it watches it); the lookup bounds itself.
	to, err := s.worlds.InviteRedirect(context.WithoutCancel(ctx), addr.Unmap(), code)
	switch {
	case err == nil:
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.Redirect(to, fasthttp.StatusFound)
	case err.Code == op.CodeAuthDenied:
		ctx.Error("invite is unknown or expired", fasthttp.StatusNotFound)
	case err.Code == op.CodeUnavailable:
		ctx.Error(err.Message, fasthttp.StatusServiceUnavailable)
	default:
		ctx.Error("internal error", fasthttp.StatusInternalServerError)
	}
}
