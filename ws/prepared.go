package ws

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"

	"github.com/duplexgo/duplex/frame"
)

// PreparedMessage is a message encoded once for many connections: a
// server broadcasting one message to thousands of sockets frames it once,
// and compresses it once per compression level, instead of once per
// connection. Frames are made on first use and shared by every
// connection that can send the same bytes:
//
//   - a server connection without permessage-deflate (or sending a
//     message below its MinSize uncompressed) writes the plain frame;
//   - a server connection with permessage-deflate and no server context
//     takeover (NoContextTakeover, or the client asked for it) writes the
//     frame compressed at its level;
//   - a server connection with context takeover, and every client
//     connection (whose frames are masked with a fresh key each), encodes
//     the message itself, as WriteMessage does.
//
// A PreparedMessage is safe for concurrent use.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu     sync.Mutex                      // serialises encoding
	frames atomic.Pointer[[]preparedFrame] // immutable; replaced when a variant is added
}

type preparedFrame struct {
	level int // compression level; plainFrame for none
	b     []byte
}

const plainFrame = -100 // below every flate level

// NewPreparedMessage prepares data, copied, as a message of type typ.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != Text && typ != Binary {
		return nil, ErrMessageType
	}
	return &PreparedMessage{typ: typ, data: bytes.Clone(data)}, nil
}

// frame returns the server frame of the message, compressed at level
// (plainFrame: not compressed), encoding it on first use.
func (pm *PreparedMessage) frame(level int) ([]byte, error) {
	if fs := pm.frames.Load(); fs != nil {
		for _, f := range *fs {
			if f.level == level {
				return f.b, nil
			}
		}
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	var cur []preparedFrame
	if fs := pm.frames.Load(); fs != nil {
		cur = *fs
	}
	for _, f := range cur {
		if f.level == level {
			return f.b, nil
		}
	}
	payload, rsv := pm.data, frame.RSV(0)
	if level != plainFrame {
		var out bytes.Buffer
		fw := flateWriterPool(level).Get().(*flate.Writer)
		fw.Reset(&out)
		fw.Write(pm.data)
		err := fw.Flush()
		flateWriterPool(level).Put(fw)
		if err != nil {
			return nil, err
		}
		payload = bytes.TrimSuffix(out.Bytes(), []byte{0, 0, 0xff, 0xff}) // RFC 7692 §7.2.1
		rsv = frame.RSV1
	}
	h := frame.Header{Fin: true, RSV: rsv, Opcode: frame.Opcode(pm.typ), Length: int64(len(payload))}
	b := append(frame.AppendHeader(make([]byte, 0, h.Size()+len(payload)), h), payload...)
	next := append(append(make([]preparedFrame, 0, len(cur)+1), cur...), preparedFrame{level, b})
	pm.frames.Store(&next)
	return b, nil
}

// WritePrepared sends a prepared message, writing the frame it shares
// with every connection that negotiated the same variant (see
// PreparedMessage). Like WriteMessage, concurrent calls are serialised and
// ctx bounds the wait and the write.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	d := c.deflate
	compress := d != nil && d.shouldCompress(len(pm.data))
	if c.client || compress && !d.params.sendNoContext {
		return c.writeMessage(ctx, pm.typ, pm.data, true)
	}
	level := plainFrame
	if compress {
		level = d.level
	}
	b, err := pm.frame(level)
	if err != nil {
		return err
	}
	done, err := c.beginMessageWrite(ctx)
	if err != nil {
		return err
	}
	return c.finishMessageWrite(done, c.writeRawLocked(b))
}
