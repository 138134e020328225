package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/node/manifest"

	"github.com/valyala/fasthttp"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
)

// Engine is what the admin API changes: the node's engine, which applies
// room configuration to the catalog and tells clients.
type Engine interface {
	ApplyRoom(ctx context.Context, r *catalog.Room, pre engine.Precondition) (engine.Change, error)
	DeleteRoom(ctx context.Context, id string) error
	Catalog() *catalog.Catalog
}

// Handler serves the admin API.
type Handler struct {
	token  [sha256.Size]byte
	on     bool
	eng    Engine
	worlds Worlds
	pool   Pool
	log    *slog.Logger
}

// NewHandler returns the admin API of a node: eng applies rooms (any
// world's), worlds the worlds.
func NewHandler(cfg Config, eng Engine, worlds Worlds, pool Pool, log *slog.Logger) *Handler {
	return &Handler{token: sha256.Sum256([]byte(cfg.Token)), on: cfg.Token != "", eng: eng, worlds: worlds, pool: pool, log: log}
}

// roomIDPattern is the Room API's id pattern (spec.id, or a Kubernetes name).
var roomIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ServeHTTP serves a request whose path starts with adminapi.PathPrefix.
func (h *Handler) ServeHTTP(ctx *fasthttp.RequestCtx) {
	if !h.on {
		writeError(ctx, http.StatusForbidden, adminapi.CodeDisabled, "the admin API is off on this node (no --admin-token)")
		return
	}
	if !h.authorized(ctx) {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="roomring-admin"`)
		writeError(ctx, http.StatusUnauthorized, adminapi.CodeUnauthenticated, "missing or wrong bearer token")
		return
	}
	rest := strings.TrimPrefix(string(ctx.Path()), adminapi.PathPrefix)
	method := string(ctx.Method())
	switch {
	case rest == "pool":
		if allow(ctx, method, http.MethodGet) {
			h.getPool(ctx)
		}
	case rest == "rooms":
		if allow(ctx, method, http.MethodGet) {
			h.listRooms(ctx)
		}
	case strings.HasPrefix(rest, "rooms/"):
		id := strings.TrimPrefix(rest, "rooms/")
		if !roomIDPattern.MatchString(id) {
			writeError(ctx, http.StatusNotFound, string(op.CodeRoomUnknown), "invalid room id")
			return
		}
		if !allow(ctx, method, http.MethodGet, http.MethodPut, http.MethodDelete) {
			return
		}
		switch method {
		case http.MethodGet:
			h.getRoom(ctx, id)
		case http.MethodPut:
			h.putRoom(ctx, id)
		case http.MethodDelete:
			h.deleteRoom(ctx, id)
		}
	case rest == "worlds" || strings.HasPrefix(rest, "worlds/"):
		h.serveWorlds(ctx, rest, method)
	default:
		writeError(ctx, http.StatusNotFound, adminapi.CodeNotFound, "no such admin endpoint")
	}
}

// detached is the context of what a request does: ctx's values without
// its cancellation. A *fasthttp.RequestCtx's Done is the server's, read
// unsynchronised against Server.Shutdown (a data race whenever a context
// derived from it, e.g. a store operation's timeout, watches it); the
// operations bound themselves (store timeouts).
func detached(ctx *fasthttp.RequestCtx) context.Context { return context.WithoutCancel(ctx) }

func (h *Handler) authorized(ctx *fasthttp.RequestCtx) bool {
	auth := string(ctx.Request.Header.Peek("Authorization"))
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], h.token[:]) == 1
}

func allow(ctx *fasthttp.RequestCtx, method string, allowed ...string) bool {
	for _, a := range allowed {
		if method == a {
			return true
		}
	}
	ctx.Response.Header.Set("Allow", strings.Join(allowed, ", "))
	writeError(ctx, http.StatusMethodNotAllowed, adminapi.CodeMethod, method+" is not allowed here")
	return false
}

func (h *Handler) getPool(ctx *fasthttp.RequestCtx) {
	name, addr := h.pool.Self()
	st := adminapi.PoolStatus{Node: adminapi.Member{Name: name, Addr: addr}, Incarnation: h.pool.Incarnation()}
	for name, addr := range h.pool.Members() {
		st.Members = append(st.Members, adminapi.Member{Name: name, Addr: addr})
	}
	slices.SortFunc(st.Members, func(a, b adminapi.Member) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(ctx, http.StatusOK, st)
}

func (h *Handler) listRooms(ctx *fasthttp.RequestCtx) {
	rooms := h.eng.Catalog().List()
	out := adminapi.RoomList{Rooms: make([]string, 0, len(rooms))}
	for _, r := range rooms {
		out.Rooms = append(out.Rooms, r.ID)
	}
	writeJSON(ctx, http.StatusOK, out)
}

func (h *Handler) status(ctx context.Context, r *catalog.Room) (adminapi.RoomStatus, error) {
	viewers, err := h.pool.Viewers(ctx, r.ID)
	if err != nil {
		return adminapi.RoomStatus{}, err
	}
	cfg, err := json.Marshal(r)
	if err != nil {
		return adminapi.RoomStatus{}, fmt.Errorf("encode room %s: %w", r.ID, err)
	}
	return adminapi.RoomStatus{ID: r.ID, Config: cfg, Owner: h.pool.Owner(r.ID), Viewers: viewers, Node: h.name()}, nil
}

func (h *Handler) name() string {
	name, _ := h.pool.Self()
	return name
}

func (h *Handler) getRoom(ctx *fasthttp.RequestCtx, id string) {
	r := h.eng.Catalog().Get(id)
	if r == nil {
		writeError(ctx, http.StatusNotFound, string(op.CodeRoomUnknown), "unknown room "+id)
		return
	}
	st, err := h.status(detached(ctx), r)
	if err != nil {
		h.internal(ctx, "room status", id, err)
		return
	}
	writeJSON(ctx, http.StatusOK, st)
}

func (h *Handler) putRoom(ctx *fasthttp.RequestCtx, id string) {
	var body adminapi.PutRoom
	d := json.NewDecoder(strings.NewReader(string(ctx.PostBody())))
	d.DisallowUnknownFields()
	if err := d.Decode(&body); err != nil {
		writeError(ctx, http.StatusBadRequest, adminapi.CodeBadRequest, "invalid body: "+err.Error())
		return
	}
	r, err := manifest.FromSpec(id, &body.Spec)
	if err != nil {
		writeError(ctx, http.StatusUnprocessableEntity, string(op.CodeConfigInvalid), err.Error())
		return
	}
	pre := engine.AnyState
	if string(ctx.Request.Header.Peek("If-Match")) == "*" {
		pre = engine.MustExist // the operator saw the room: do not reopen it
	}
	change, err := h.eng.ApplyRoom(detached(ctx), r, pre)
	if err != nil {
		var oe *op.Error
		if errors.As(err, &oe) && oe.Code == op.CodeRoomUnknown && pre == engine.MustExist {
			writeError(ctx, http.StatusPreconditionFailed, string(oe.Code), "room "+id+" was closed since it was read")
			return
		}
		if errors.As(err, &oe) {
			writeError(ctx, http.StatusUnprocessableEntity, string(oe.Code), oe.Message)
			return
		}
		h.internal(ctx, "apply room", id, err)
		return
	}
	if change != engine.Unchanged {
		h.log.Info("room applied", "room", id, "change", change)
	}
	cur := h.eng.Catalog().Get(id)
	if cur == nil { // deleted meanwhile
		writeError(ctx, http.StatusConflict, string(op.CodeRoomUnknown), "room deleted while being applied")
		return
	}
	st, err := h.status(detached(ctx), cur)
	if err != nil {
		h.internal(ctx, "room status", id, err)
		return
	}
	st.Change = string(change)
	writeJSON(ctx, http.StatusOK, st)
}

func (h *Handler) deleteRoom(ctx *fasthttp.RequestCtx, id string) {
	err := h.eng.DeleteRoom(detached(ctx), id)
	var oe *op.Error
	switch {
	case err == nil:
		h.log.Info("room closed", "room", id)
		ctx.SetStatusCode(http.StatusNoContent)
	case errors.As(err, &oe) && oe.Code == op.CodeRoomUnknown:
		writeError(ctx, http.StatusNotFound, string(oe.Code), oe.Message)
	default:
		h.internal(ctx, "delete room", id, err)
	}
}

func (h *Handler) internal(ctx *fasthttp.RequestCtx, what, id string, err error) {
	h.log.Error("admin API request failed", "op", what, "room", id, "err", err)
	writeError(ctx, http.StatusInternalServerError, adminapi.CodeInternal, what+" failed: "+err.Error())
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"server.error","message":"encode response"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func writeError(ctx *fasthttp.RequestCtx, status int, code, msg string) {
	writeJSON(ctx, status, adminapi.Error{Code: code, Message: msg})
}

// WriteTooLarge answers a request whose body is over limit bytes: 413 with
// the admin API's error body. The listener calls it (its request-error
// handler) for admin paths, since the body is refused before any handler
// runs.
func WriteTooLarge(ctx *fasthttp.RequestCtx, limit int) {
	writeError(ctx, http.StatusRequestEntityTooLarge, adminapi.CodeTooLarge,
		fmt.Sprintf("request body over the %d byte limit", limit))
}
