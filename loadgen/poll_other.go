//go:build !linux

package loadgen

// Elsewhere each connection is read by its own goroutine (client.run).

type pollSet struct{}

func newPollSet([]*client) (*pollSet, error) { return nil, nil }

func (*pollSet) add(*client) error { return nil }
func (*pollSet) remove(*client)    {}
func (*pollSet) close()            {}
