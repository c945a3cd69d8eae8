package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gobwas "github.com/gobwas/ws"
	"github.com/gorilla/websocket"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/mask"
	"github.com/duplexgo/duplex/ws"
)

// FuzzHeaderVsGobwas parses the same bytes with frame.Parse and gobwas's
// ReadHeader. Where both accept, every field must agree. Documented
// difference: duplex rejects a length not in its minimal encoding (RFC
// 6455 §5.2 "the minimal number of bytes MUST be used"); gobwas accepts it.
func FuzzHeaderVsGobwas(f *testing.F) {
	for _, s := range [][]byte{
		{0x81, 0x05}, {0x81, 0x85, 1, 2, 3, 4}, {0x82, 126, 0x01, 0x00}, {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0},
		{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, {0x82, 126, 0, 5}, {0xf9, 0x7d}, {0x0b}, {},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, n, err := frame.Parse(b)
		theirs, gerr := gobwas.ReadHeader(bytes.NewReader(b))
		switch {
		case err == frame.ErrShortHeader:
			if gerr == nil {
				t.Fatalf("%x: duplex needs %d bytes, gobwas parsed %+v", b, n, theirs)
			}
		case err == frame.ErrNonMinimalLength:
			// The documented difference.
		case err == frame.ErrLengthOverflow:
			if gerr == nil {
				t.Fatalf("%x: duplex rejects the top length bit, gobwas accepts", b)
			}
		case err != nil:
			t.Fatalf("%x: unexpected error %v", b, err)
		default:
			if gerr != nil {
				t.Fatalf("%x: duplex accepts %+v, gobwas says %v", b, ours, gerr)
			}
			if ours.Fin != theirs.Fin || byte(ours.RSV)>>4 != theirs.Rsv || byte(ours.Opcode) != byte(theirs.OpCode) ||
				ours.Masked != theirs.Masked || ours.Length != theirs.Length || ours.Masked && ours.Key != theirs.Mask {
				t.Fatalf("%x: duplex %+v, gobwas %+v", b, ours, theirs)
			}
		}
	})
}

// streamConn serves a fixed byte stream to reads and discards writes.
type streamConn struct {
	r io.Reader
	net.Conn
}

func (c *streamConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

const request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

type hijacker struct {
	conn net.Conn
	br   *bufio.Reader
	h    http.Header
}

func (w *hijacker) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *hijacker) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijacker) WriteHeader(int)             {}
func (w *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(w.br, bufio.NewWriter(w.conn)), nil
}

type message struct {
	text bool
	data string
}

const maxMessages = 50

// readDuplex reads messages from stream as a duplex server.
func readDuplex(stream []byte) ([]message, error) {
	c, err := ws.UpgradeConn(&streamConn{r: io.MultiReader(strings.NewReader(request), bytes.NewReader(stream))},
		&ws.ServerOptions{Options: ws.Options{ReadLimit: 1 << 20, CloseTimeout: time.Millisecond}})
	if err != nil {
		return nil, err
	}
	var msgs []message
	for len(msgs) < maxMessages {
		typ, p, err := c.ReadMessage(context.Background(), nil)
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, message{typ == ws.Text, string(p)})
	}
	return msgs, nil
}

// readGorilla reads messages from stream as a gorilla server.
func readGorilla(stream []byte) ([]message, error) {
	conn := &streamConn{r: io.MultiReader(strings.NewReader(request), bytes.NewReader(stream))}
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	up := websocket.Upgrader{}
	c, err := up.Upgrade(&hijacker{conn: conn, br: br}, req, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	var msgs []message
	for len(msgs) < maxMessages {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, message{typ == websocket.TextMessage, string(p)})
	}
	return msgs, nil
}

func clientFrame(op frame.Opcode, fin bool, p []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: int64(len(p))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	mask.XOR(b[start:], h.Key, 0)
	return b
}

// FuzzReadVsGorilla feeds the same client byte stream to a duplex server
// and a gorilla server and compares the messages each delivers and
// whether each rejects the stream. Documented differences, where RFC 6455
// allows duplex's stricter answer:
//   - gorilla leaves UTF-8 to the application: where it delivers a text
//     message that is not UTF-8, duplex must have failed with 1007;
//   - duplex rejects non-minimal length encodings (§5.2 MUST);
//   - the stream may end in a Close, which both report as an error.
func FuzzReadVsGorilla(f *testing.F) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add(clientFrame(frame.OpText, true, []byte("hello")))
	f.Add(cat(clientFrame(frame.OpText, false, []byte("hel")), clientFrame(frame.OpPing, true, []byte("p")), clientFrame(frame.OpContinuation, true, []byte("lo"))))
	f.Add(cat(clientFrame(frame.OpBinary, true, []byte{0, 1, 2}), clientFrame(frame.OpClose, true, []byte{0x03, 0xe8})))
	f.Add(clientFrame(frame.OpText, true, []byte{0xed, 0xa0, 0x80}))
	f.Add(clientFrame(frame.OpContinuation, true, []byte("x")))
	f.Add(clientFrame(3, true, nil))
	f.Add(cat(clientFrame(frame.OpText, false, nil), clientFrame(frame.OpText, true, nil)))
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Fuzz(func(t *testing.T, stream []byte) {
		ours, oerr := readDuplex(stream)
		theirs, gerr := readGorilla(stream)
		for i := 0; i < len(ours) && i < len(theirs); i++ {
			if ours[i] != theirs[i] {
				t.Fatalf("message %d differs: duplex %+v, gorilla %+v", i, ours[i], theirs[i])
			}
		}
		if len(ours) == len(theirs) {
			if (oerr == nil) != (gerr == nil) {
				t.Fatalf("after %d messages: duplex %v, gorilla %v", len(ours), oerr, gerr)
			}
			return
		}
		if len(theirs) > len(ours) {
			// gorilla delivered more: only allowed where duplex applied a
			// rule gorilla does not.
			next := theirs[len(ours)]
			var fe frame.Error
			switch {
			case errors.As(oerr, &fe) && fe == frame.ErrInvalidUTF8 && next.text && !utf8.ValidString(next.data):
			case errors.As(oerr, &fe) && fe == frame.ErrNonMinimalLength:
			default:
				t.Fatalf("gorilla delivered %+v where duplex stopped with %v", next, oerr)
			}
			return
		}
		t.Fatalf("duplex delivered %+v where gorilla stopped with %v", ours[len(theirs)], gerr)
	})
}
