// Package demo embeds the demo page served at / : a dependency-free client
// of the venueless Rooms API. It joins as a guest (or an anonymous invitee,
// or with a session token), lists the rooms of world.config, enters one at a
// time, shows its viewers to users with room:viewers, live reaction counts
// and the schedule, sends the room's allowed reactions, and reconnects with
// backoff. browser_test.go drives it in headless chromium against a real
// node.
package demo

import "embed"

// Files holds the page's static files (index.html, app.js, app.css).
//
// The page must work without internet access: no CDN, no external fonts.
//
//go:embed static
var Files embed.FS
