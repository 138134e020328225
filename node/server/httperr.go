package server

import (
	"errors"
	"net"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/node/admin"
)

// maxBodySize bounds a non-websocket request's body on both listeners.
const maxBodySize = 1 << 20

// requestError answers a request fasthttp could not read (its
// ErrorHandler): a body over maxBodySize gets 413 — in the admin API's
// error format on its paths — and the rest fasthttp's usual answers.
func (s *Server) requestError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var ne *net.OpError
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge) && strings.HasPrefix(string(ctx.Path()), adminapi.PathPrefix):
		admin.WriteTooLarge(ctx, maxBodySize)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		ctx.Error("request body too large", fasthttp.StatusRequestEntityTooLarge)
	case errors.As(err, &small):
		ctx.Error("Too big request header", fasthttp.StatusRequestHeaderFieldsTooLarge)
	case errors.As(err, &ne) && ne.Timeout():
		ctx.Error("Request timeout", fasthttp.StatusRequestTimeout)
	default:
		ctx.Error("Error when parsing request", fasthttp.StatusBadRequest)
	}
}
