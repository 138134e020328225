package payload

import "github.com/roomring/roomring/node/op"

// Resource reactions are Valu's, and both dialects carry them in Valu's
// names (in the venueless dialect as the resource.reaction.* extension),
// so their request and reply shapes are written once, here.

// Resource is the payload of a resource-reaction request. Valu names the
// resource "resource" in writes and "resourceId" in reads; either is
// accepted everywhere. Comment is a roomring addition.
type Resource struct {
	Room       string `json:"room"`
	Resource   string `json:"resource"`
	ResourceID string `json:"resourceId"`
	Comment    string `json:"comment"`
	Reaction   string `json:"reaction"`
}

// Target is the resource or comment the request names.
func (p Resource) Target() op.ResourceTarget {
	t := op.ResourceTarget{Room: p.Room, Resource: p.Resource, Comment: p.Comment}
	if t.Resource == "" {
		t.Resource = p.ResourceID
	}
	return t
}

// The four resource-reaction requests. Each decodes a Resource and names
// its operation; both codecs' decode tables use them as they are.
type (
	ResourceSet    struct{ Resource }
	ResourceDelete struct{ Resource }
	ResourceGet    struct{ Resource }
	ResourceOwn    struct{ Resource }
)

// Operation is the request as an engine operation.
func (p ResourceSet) Operation() op.Operation {
	return op.SetResourceReaction{Target: p.Target(), Reaction: p.Reaction}
}

// Operation is the request as an engine operation.
func (p ResourceDelete) Operation() op.Operation {
	return op.DeleteResourceReaction{Target: p.Target()}
}

// Operation is the request as an engine operation.
func (p ResourceGet) Operation() op.Operation { return op.GetResourceReactions{Target: p.Target()} }

// Operation is the request as an engine operation.
func (p ResourceOwn) Operation() op.Operation { return op.GetOwnResourceReaction{Target: p.Target()} }

// Reactions is the reply to a read of a target's reactions.
type Reactions struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

// NewReactions shapes the engine's answer.
func NewReactions(r op.ResourceReactions) Reactions {
	return Reactions{Reactions: r.Reactions, Total: r.Total, OwnReaction: r.Own}
}

// OwnReaction is the reply to a read of the user's own reaction.
type OwnReaction struct {
	OwnReaction string `json:"ownReaction"`
}
