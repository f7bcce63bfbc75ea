//go:build !linux && !darwin

package apptuit

import "net"

// ackCounter would tell how many bytes written on a TCP connection its
// peer's TCP has not acknowledged; this system has no portable way to ask,
// so a Send's lines are confirmed only by the connection staying open.
type ackCounter struct{}

func newAckCounter(net.Conn) *ackCounter { return nil }

func (*ackCounter) unacked() (int, bool) { return 0, false }
