package reaction

import (
	"unicode"
	"unicode/utf8"

	"github.com/roomring/roomring/node/op"
)

// checkTarget validates a resource and comment id.
func (c *Config) checkTarget(resource, comment string) *op.Error {
	if resource == "" {
		return op.Errorf(op.CodeBadRequest, "resource is required")
	}
	if err := c.checkID("resource", resource); err != nil {
		return err
	}
	if comment == "" {
		return nil
	}
	return c.checkID("comment", comment)
}

// checkID validates an id's length and charset (Config.MaxIDBytes).
func (c *Config) checkID(field, id string) *op.Error {
	if len(id) > c.MaxIDBytes {
		return op.Errorf(op.CodeInvalidResource, "%s must be at most %d bytes", field, c.MaxIDBytes)
	}
	if !idText(id) {
		return op.Errorf(op.CodeInvalidResource, "%s must be UTF-8 of letters, digits, punctuation and symbols, without spaces or control characters", field)
	}
	return nil
}

// idText tells whether s is valid UTF-8 of graphic characters other than
// spaces.
func idText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// checkReaction validates a reaction string.
func (c *Config) checkReaction(r string) *op.Error {
	if r == "" {
		return op.Errorf(op.CodeBadRequest, "reaction is required")
	}
	if len(r) > c.MaxReactionBytes {
		return op.Errorf(op.CodeBadRequest, "reaction must be at most %d bytes", c.MaxReactionBytes)
	}
	if !printable(r) {
		return op.Errorf(op.CodeBadRequest, "reaction must be UTF-8 text without control characters")
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
