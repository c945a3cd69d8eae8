package ws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/mask"
)

// fuzzConn is a net.Conn whose reads come from a fixed stream and whose
// writes are collected; reads past the end report EOF.
type fuzzConn struct {
	r   io.Reader
	out bytes.Buffer
	net.Conn
}

func (c *fuzzConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fuzzConn) Close() error                     { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }

func masked(op frame.Opcode, fin bool, rsv frame.RSV, p []byte) []byte {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Key: [4]byte{9, 8, 7, 6}, Length: int64(len(p))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	mask.XOR(b[start:], h.Key, 0)
	return b
}

// FuzzReadServer feeds arbitrary bytes to the read side of a server Conn
// (compression negotiated, a 64 KiB limit) and checks that it never
// panics, returns only bounded messages, and ends with an error of a known
// kind.
func FuzzReadServer(f *testing.F) {
	seeds := [][]byte{
		masked(frame.OpText, true, 0, []byte("Hello")),
		append(masked(frame.OpText, false, 0, []byte("Hel")), masked(frame.OpContinuation, true, 0, []byte("lo"))...),
		masked(frame.OpPing, true, 0, []byte("p")),
		masked(frame.OpClose, true, 0, []byte{0x03, 0xe8}),
		masked(frame.OpText, true, 0, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}),
		masked(frame.OpBinary, true, frame.RSV1, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
		masked(frame.OpBinary, true, frame.RSV1, []byte{0x00}),
		{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4},
		masked(frame.OpPing, false, 0, nil),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		nc := &fuzzConn{r: bytes.NewReader(stream)}
		opts := (&Options{ReadLimit: 64 << 10, CloseTimeout: time.Millisecond}).withDefaults()
		c := newConn(nc, false, nil, opts, "")
		c.deflate = newDeflateState(deflateParams{sendWindowBits: 15}, &CompressionOptions{})
		for i := 0; i < 100; i++ {
			typ, msg, err := c.ReadMessage(context.Background(), nil)
			if err != nil {
				var fe frame.Error
				var ce *CloseError
				if !errors.As(err, &fe) && !errors.As(err, &ce) && !errors.Is(err, net.ErrClosed) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if typ != Text && typ != Binary {
				t.Fatalf("message type %v", typ)
			}
			if len(msg) > 64<<10 {
				t.Fatalf("message of %d bytes over the limit", len(msg))
			}
		}
	})
}
