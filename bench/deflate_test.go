package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/duplexgo/duplex/ws"
)

// deflateMessage is a 1 KiB JSON message of the kind permessage-deflate is
// for: field names repeat within it and from one message to the next.
func deflateMessage(i int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for j := 0; b.Len() < 1000; j++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","event":"update","fields":{"x":%d,"y":%d}},`, i*100+j, (i+j)%97, j*7, i%13)
	}
	return []byte(strings.TrimSuffix(b.String(), ",") + "]")
}

// BenchmarkEchoDeflate echoes 1 KiB JSON messages with permessage-deflate
// negotiated, ping-pong over loopback; the client is duplex's, offering
// context takeover, for every server. Each server takes context takeover
// where it supports it (gorilla does not: no-context-takeover).
func BenchmarkEchoDeflate(b *testing.B) {
	servers := []struct {
		name  string
		serve func(net.Conn)
	}{
		{"duplex", duplexEcho(&ws.ServerOptions{Options: ws.Options{Compression: &ws.CompressionOptions{}}})},
		{"gws", gwsServe(gwsEcho{}, &gws.ServerOption{PermessageDeflate: gws.PermessageDeflate{
			Enabled: true, ServerContextTakeover: true, ClientContextTakeover: true}})},
		{"gorilla", func(c net.Conn) {
			httpUpgrade(c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				up := websocket.Upgrader{EnableCompression: true}
				if wc, err := up.Upgrade(w, r, nil); err == nil {
					gorillaEcho(wc)
				}
			}))
		}},
		{"coder", func(c net.Conn) {
			httpUpgrade(c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wc, err := coder.Accept(w, r, &coder.AcceptOptions{InsecureSkipVerify: true, CompressionMode: coder.CompressionContextTakeover})
				if err != nil {
					return
				}
				wc.SetReadLimit(1 << 20)
				ctx := context.Background()
				for {
					typ, msg, err := wc.Read(ctx)
					if err != nil {
						return
					}
					if wc.Write(ctx, typ, msg) != nil {
						return
					}
				}
			}))
		}},
	}
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = deflateMessage(i)
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			addr := echoServer(b, s.serve)
			ctx := context.Background()
			c, err := ws.Dial(ctx, "ws://"+addr+"/", &ws.DialOptions{Options: ws.Options{Compression: &ws.CompressionOptions{}}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			if !c.Compressed() {
				b.Fatal("permessage-deflate was not negotiated")
			}
			var buf []byte
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.WriteMessage(ctx, ws.Text, msgs[i%len(msgs)]); err != nil {
					b.Fatal(err)
				}
				_, got, err := c.ReadMessage(ctx, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = got
				i++
			}
		})
	}
}
