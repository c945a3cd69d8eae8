package interop

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cws "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

func TestGorillaClientToDuplexServer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		url, ends := duplexEcho(t, compress)
		d := websocket.Dialer{EnableCompression: compress}
		c, resp, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Sec-WebSocket-Extensions"); compress != strings.Contains(got, "permessage-deflate") {
			t.Fatalf("compress=%v: extensions %q", compress, got)
		}
		for i, m := range messages(200, 3) {
			typ := websocket.TextMessage
			if m.typ == ws.Binary {
				typ = websocket.BinaryMessage
			}
			if err := c.WriteMessage(typ, m.data); err != nil {
				t.Fatal(err)
			}
			gt, got, err := c.ReadMessage()
			if err != nil || gt != typ || !bytes.Equal(got, m.data) {
				t.Fatalf("compress=%v message %d: %v", compress, i, err)
			}
		}
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "gorilla done"))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4001) {
			t.Fatalf("gorilla saw %v, want the echoed 4001", err)
		}
		if err := <-ends; ws.CloseStatus(err) != 4001 {
			t.Fatalf("server saw %v", err)
		}
		c.Close()
	}
}

func TestDuplexClientToGorillaServer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		up := websocket.Upgrader{EnableCompression: compress}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				typ, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if c.WriteMessage(typ, msg) != nil {
					return
				}
			}
		}))
		dialAndEcho(t, srv, compress)
	}
}

func TestCoderClientToDuplexServer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		url, ends := duplexEcho(t, compress)
		mode := cws.CompressionDisabled
		if compress {
			mode = cws.CompressionContextTakeover
		}
		ctx := context.Background()
		c, _, err := cws.Dial(ctx, url, &cws.DialOptions{CompressionMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(8 << 20)
		for i, m := range messages(200, 4) {
			typ := cws.MessageText
			if m.typ == ws.Binary {
				typ = cws.MessageBinary
			}
			if err := c.Write(ctx, typ, m.data); err != nil {
				t.Fatal(err)
			}
			gt, got, err := c.Read(ctx)
			if err != nil || gt != typ || !bytes.Equal(got, m.data) {
				t.Fatalf("compress=%v message %d: %v", compress, i, err)
			}
		}
		if err := c.Close(4002, "coder done"); err != nil {
			t.Fatal(err)
		}
		if err := <-ends; ws.CloseStatus(err) != 4002 {
			t.Fatalf("server saw %v", err)
		}
	}
}

func TestDuplexClientToCoderServer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		mode := cws.CompressionDisabled
		if compress {
			mode = cws.CompressionContextTakeover
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := cws.Accept(w, r, &cws.AcceptOptions{CompressionMode: mode})
			if err != nil {
				return
			}
			c.SetReadLimit(8 << 20)
			ctx := context.Background()
			for {
				typ, msg, err := c.Read(ctx)
				if err != nil {
					return
				}
				if c.Write(ctx, typ, msg) != nil {
					return
				}
			}
		}))
		dialAndEcho(t, srv, compress)
	}
}

// dialAndEcho connects a duplex client to a peer's echo server, checks
// that compression was negotiated as asked, echoes 200 messages and
// closes.
func dialAndEcho(t *testing.T, srv *httptest.Server, compress bool) {
	t.Helper()
	defer srv.Close()
	var opts ws.DialOptions
	if compress {
		opts.Compression = &ws.CompressionOptions{}
	}
	c, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Compressed() != compress {
		t.Fatalf("compressed %v", c.Compressed())
	}
	echoThrough(t, c, 200)
	if err := c.Close(frame.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
}
