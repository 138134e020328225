package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/manifest"
	"github.com/roomring/roomring/node/op"
)

// Worlds is what the admin API changes and reads of the node's worlds (the
// node's world registry): PutWorld and DeleteWorld write the catalog, which
// replicates the change to every node of the pool.
type Worlds interface {
	PutWorld(ctx context.Context, w *catalog.World) (engine.Change, error)
	DeleteWorld(ctx context.Context, id string) error
	// WorldStatus is the world's rooms and this node's connections of
	// it; ok false when the node does not serve the world.
	WorldStatus(id string) (rooms, conns int, ok bool)
	WorldIDs() []string
}

// serveWorlds serves /internal/v1/worlds and /internal/v1/worlds/{id}.
func (h *Handler) serveWorlds(ctx *fasthttp.RequestCtx, rest, method string) {
	if rest == "worlds" {
		if allow(ctx, method, http.MethodGet) {
			writeJSON(ctx, http.StatusOK, adminapi.WorldList{Worlds: h.worlds.WorldIDs()})
		}
		return
	}
	id := strings.TrimPrefix(rest, "worlds/")
	if !catalog.ValidWorldID(id) {
		writeError(ctx, http.StatusNotFound, string(op.CodeWorldUnknown), "invalid world id")
		return
	}
	if !allow(ctx, method, http.MethodGet, http.MethodPut, http.MethodDelete) {
		return
	}
	switch method {
	case http.MethodGet:
		h.getWorld(ctx, id, "")
	case http.MethodPut:
		h.putWorld(ctx, id)
	case http.MethodDelete:
		h.deleteWorld(ctx, id)
	}
}

func (h *Handler) getWorld(ctx *fasthttp.RequestCtx, id string, change engine.Change) {
	rooms, conns, ok := h.worlds.WorldStatus(id)
	if !ok {
		writeError(ctx, http.StatusNotFound, string(op.CodeWorldUnknown), "unknown world "+id)
		return
	}
	writeJSON(ctx, http.StatusOK, adminapi.WorldStatus{ID: id, Rooms: rooms, Connections: conns, Node: h.name(), Change: string(change)})
}

func (h *Handler) putWorld(ctx *fasthttp.RequestCtx, id string) {
	var body adminapi.PutWorld
	d := json.NewDecoder(strings.NewReader(string(ctx.PostBody())))
	d.DisallowUnknownFields()
	if err := d.Decode(&body); err != nil {
		writeError(ctx, http.StatusBadRequest, adminapi.CodeBadRequest, "invalid body: "+err.Error())
		return
	}
	w, err := manifest.WorldFromSpec(id, &body.Spec, body.Secrets)
	if err == nil && w.InviteRedirect != "" {
		err = engine.ValidateInviteRedirect(w.InviteRedirect)
	}
	if err != nil {
		writeError(ctx, http.StatusUnprocessableEntity, string(op.CodeConfigInvalid), err.Error())
		return
	}
	change, err := h.worlds.PutWorld(detached(ctx), w)
	if err != nil {
		var oe *op.Error
		if errors.As(err, &oe) {
			writeError(ctx, http.StatusUnprocessableEntity, string(oe.Code), oe.Message)
			return
		}
		h.internal(ctx, "apply world", id, err)
		return
	}
	if change != engine.Unchanged {
		h.log.Info("world applied", "world", id, "change", change)
	}
	h.getWorld(ctx, id, change)
}

func (h *Handler) deleteWorld(ctx *fasthttp.RequestCtx, id string) {
	err := h.worlds.DeleteWorld(detached(ctx), id)
	var oe *op.Error
	switch {
	case err == nil:
		h.log.Info("world closed", "world", id)
		ctx.SetStatusCode(http.StatusNoContent)
	case errors.As(err, &oe) && oe.Code == op.CodeWorldUnknown:
		writeError(ctx, http.StatusNotFound, string(oe.Code), oe.Message)
	default:
		h.internal(ctx, "delete world", id, err)
	}
}
