package events

import (
	"errors"
	"syscall"
)

// closedByPeer reports whether the client has closed (or reset) the connection, without
// waiting: it peeks at what the client sent. A stream's client sends nothing after its
// request, so a read that finds the end of the stream, or an error other than "nothing yet",
// means it is gone.
func closedByPeer(rc syscall.RawConn) bool {
	var gone bool
	var b [1]byte
	err := rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = (n == 0 && err == nil) || (err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR))
		return true // never wait for data
	})
	return gone || err != nil
}
