// Package demo embeds the demo page served at / : join as a guest, pick a
// room, see viewers and live reaction counts, and react.
package demo

import "embed"

// Files holds the page's static files.
//
//go:embed static
var Files embed.FS
