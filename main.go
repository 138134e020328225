// Command roomring is the real-time room server of an event platform.
//
//	roomring node      run a node (standalone, or part of a cluster)
//	roomring operator  run the operator (Room resources onto the pool)
//	roomring token     mint a session token for testing
//	roomring version   print the version
package main

import (
	"fmt"
	"os"

	"github.com/roomring/roomring/cmd"
)

func main() {
	if err := cmd.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "roomring:", err)
		os.Exit(1)
	}
}
