package reaction

// TimeFormat is how reaction timestamps are written in both dialects:
// RFC 3339 in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Summary is getReactions' reply: {"reactions": [[userId, reaction], ...],
// "total": n, "ownReaction": "..."}. Reactions lists identified users only,
// newest first, at most Config.MaxListed of them; Total counts everyone.
type Summary struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

// Own is getUserOwnReaction's reply.
type Own struct {
	OwnReaction string `json:"ownReaction"`
}
