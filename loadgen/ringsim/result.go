package ringsim

import (
	"fmt"
	"io"
	"time"
)

// Print writes the result as a table.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "pool of %d members, %d rooms on the ring\n\n", r.Members, r.Rooms)
	fmt.Fprintf(w, "%-36s %12s %12s %12s %10s\n", "step", "agreement", "rooms moved", "ideal", "max load")
	for _, s := range r.Steps {
		moved, ideal := "", ""
		if s.Ideal > 0 {
			moved, ideal = fmt.Sprintf("%.2f %%", 100*s.Moved), fmt.Sprintf("%.2f %%", 100*s.Ideal)
		}
		fmt.Fprintf(w, "%-36s %12v %12s %12s %9.2f×\n", s.What, s.Agree.Round(time.Millisecond), moved, ideal, s.MaxLoad)
	}
	if len(r.Records) > 0 {
		fmt.Fprintf(w, "\n%-8s %22s %18s %22s\n", "record", "reached by gossip", "gossip done", "held by every member")
	}
	for i, sp := range r.Records {
		all := "not within the timeout"
		if sp.All > 0 {
			all = sp.All.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%-8d %21.0f%% %18v %22s\n", i, 100*sp.Gossiped, sp.GossipDone.Round(time.Millisecond), all)
	}
	fmt.Fprintf(w, "ring of %d members built in %v\n", r.Members, r.RingBuild.Round(time.Microsecond))
}
