package bench

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/duplexgo/duplex/ws"
)

// broadcastConns is how many connections BenchmarkBroadcast sends to.
const broadcastConns = 10000

// upgradeRequestDeflate is upgradeRequest offering permessage-deflate
// without context takeover (as a browser asking for it would).
func upgradeRequestDeflate() *http.Request {
	req := strings.Replace(handshakeReq, "\r\n\r\n",
		"\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n", 1)
	r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(req)))
	return r
}

// BenchmarkBroadcast sends one 1 KiB JSON message to 10,000 server
// connections (in-memory, writes discarded); one op is the whole
// broadcast. "-loop" writes the message to each connection; "-prepared"
// encodes it once (duplex's PreparedMessage, gorilla's). The deflate
// variants negotiate permessage-deflate without context takeover, the
// one a broadcast can share.
func BenchmarkBroadcast(b *testing.B) {
	msg := deflateMessage(1)
	ctx := context.Background()
	for _, deflate := range []bool{false, true} {
		suffix := ""
		req := upgradeRequest
		var dopts *ws.CompressionOptions
		if deflate {
			suffix, req, dopts = "-deflate", upgradeRequestDeflate, &ws.CompressionOptions{}
		}
		duplexConns := func(b *testing.B) []*ws.Conn {
			conns := make([]*ws.Conn, broadcastConns)
			for i := range conns {
				c, err := ws.Upgrade(&hijackWriter{conn: &loopConn{data: []byte{0}}}, req(), &ws.ServerOptions{Options: ws.Options{Compression: dopts}})
				if err != nil {
					b.Fatal(err)
				}
				if deflate && !c.Compressed() {
					b.Fatal("no compression")
				}
				conns[i] = c
			}
			return conns
		}
		gorillaConns := func(b *testing.B) []*websocket.Conn {
			conns := make([]*websocket.Conn, broadcastConns)
			up := websocket.Upgrader{EnableCompression: deflate}
			for i := range conns {
				c, err := up.Upgrade(&hijackWriter{conn: &loopConn{data: []byte{0}}}, req(), nil)
				if err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			return conns
		}
		b.Run("duplex-loop"+suffix, func(b *testing.B) {
			conns := duplexConns(b)
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range conns {
					c.WriteMessage(ctx, ws.Text, msg)
				}
			}
		})
		b.Run("duplex-prepared"+suffix, func(b *testing.B) {
			conns := duplexConns(b)
			b.ReportAllocs()
			for b.Loop() {
				pm, _ := ws.NewPreparedMessage(ws.Text, msg)
				for _, c := range conns {
					c.WritePrepared(ctx, pm)
				}
			}
		})
		b.Run("gorilla-loop"+suffix, func(b *testing.B) {
			conns := gorillaConns(b)
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range conns {
					c.WriteMessage(websocket.TextMessage, msg)
				}
			}
		})
		b.Run("gorilla-prepared"+suffix, func(b *testing.B) {
			conns := gorillaConns(b)
			b.ReportAllocs()
			for b.Loop() {
				pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, msg)
				for _, c := range conns {
					c.WritePreparedMessage(pm)
				}
			}
		})
	}
}
