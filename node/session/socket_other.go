//go:build !linux

package session

import (
	"errors"
	"os"
	"time"
)

// Elsewhere the socket is always Go's (socket.go): there is no bare one.

func (w *writer) handOverLocked([][]byte) (*os.File, [][]byte, error) {
	return nil, nil, errors.New("write: no bare sockets on this platform")
}

func writeFile(*os.File, [][]byte, time.Time) error {
	return errors.New("write: no bare sockets on this platform")
}

func abortBare(int32) {}

func closeBare(int32) {}
