package ws

import (
	"errors"
	"fmt"
	"net"

	"github.com/duplexgo/duplex/frame"
)

// CloseError is how a connection ended: the peer's Close frame (Code and
// Reason as received; CloseNoStatus when it had none), or CloseAbnormal
// when the connection dropped without one. It unwraps to net.ErrClosed.
type CloseError struct {
	Code   frame.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Code == frame.CloseAbnormal {
		if e.Reason != "" {
			return "ws: connection lost: " + e.Reason
		}
		return "ws: connection lost"
	}
	s := "ws: closed by peer: " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns net.ErrClosed: the connection is gone.
func (e *CloseError) Unwrap() error { return net.ErrClosed }

// CloseStatus returns the close code of a *CloseError in err's chain, or 0
// if there is none.
func CloseStatus(err error) frame.CloseCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// Errors of the connection.
var (
	// ErrClosed is returned by writes and reads after the connection was
	// closed locally. It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("ws: connection closed: %w", net.ErrClosed)
	// ErrWriteAfterClose is returned by writes after a Close frame was sent
	// (RFC 6455 §5.5.1: no data frame may follow it).
	ErrWriteAfterClose = fmt.Errorf("ws: write after close frame: %w", net.ErrClosed)
	// ErrMessageType is returned for a message type other than Text or
	// Binary.
	ErrMessageType = errors.New("ws: message type must be Text or Binary")
	// ErrControlPayload is returned for a ping payload over 125 bytes.
	ErrControlPayload = errors.New("ws: control frame payload over 125 bytes")
)

// MessageType is the type of a data message.
type MessageType uint8

// The two message types (their values are the RFC 6455 opcodes).
const (
	Text   MessageType = MessageType(frame.OpText)
	Binary MessageType = MessageType(frame.OpBinary)
)

// String returns "text" or "binary".
func (t MessageType) String() string { return frame.Opcode(t).String() }
