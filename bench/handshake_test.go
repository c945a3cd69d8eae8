package bench

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"

	gobwas "github.com/gobwas/ws"
	"github.com/gorilla/websocket"

	"github.com/duplexgo/duplex/handshake"
)

// reqConn is a net.Conn that reads one handshake request and discards
// writes.
type reqConn struct {
	r bytes.Reader
}

func (c *reqConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *reqConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *reqConn) Close() error                     { return nil }
func (c *reqConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *reqConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *reqConn) SetDeadline(time.Time) error      { return nil }
func (c *reqConn) SetReadDeadline(time.Time) error  { return nil }
func (c *reqConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkUpgradeRaw measures a server handshake read straight from a
// connection: duplex's Upgrader.UpgradeConn, gobwas's Upgrade, and
// gorilla's Upgrader behind net/http's request parser (as net/http serves
// it).
func BenchmarkUpgradeRaw(b *testing.B) {
	req := []byte(handshakeReq)
	b.Run("duplex", func(b *testing.B) {
		u := &handshake.Upgrader{Timeout: -1}
		c := &reqConn{}
		br := bufio.NewReaderSize(c, 4096)
		b.ReportAllocs()
		for b.Loop() {
			c.r.Reset(req)
			br.Reset(c)
			if _, _, _, err := u.UpgradeConn(c, br, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobwas", func(b *testing.B) {
		c := &reqConn{}
		b.ReportAllocs()
		for b.Loop() {
			c.r.Reset(req)
			if _, err := gobwas.Upgrade(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorilla-nethttp", func(b *testing.B) {
		up := websocket.Upgrader{}
		c := &reqConn{}
		b.ReportAllocs()
		for b.Loop() {
			c.r.Reset(req)
			r, err := http.ReadRequest(bufio.NewReader(c))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := up.Upgrade(&hijackWriter{conn: c}, r, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
