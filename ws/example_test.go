package ws_test

import (
	"context"
	"net/http"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

// An echo handler: every message comes back with its type, the read
// buffer is reused, and a peer's close code is reported.
func ExampleUpgrade() {
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, &ws.ServerOptions{
			Options: ws.Options{ReadLimit: 1 << 20, Compression: &ws.CompressionOptions{}},
		})
		if err != nil {
			return // the client was answered with the reason
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(r.Context(), buf[:0])
			if err != nil {
				if ws.CloseStatus(err) == frame.CloseNormal {
					return // a clean goodbye
				}
				return
			}
			if err := c.WriteMessage(r.Context(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
	})
}

// Stream a large message without holding it in memory.
func ExampleConn_NextWriter() {
	var c *ws.Conn // from ws.Dial or ws.Upgrade
	if c == nil {
		return
	}
	w, err := c.NextWriter(context.Background(), ws.Binary)
	if err != nil {
		return
	}
	for i := 0; i < 1000; i++ {
		w.Write(make([]byte, 64<<10)) // sent as it fills WriteBufferSize
	}
	w.Close()
}
