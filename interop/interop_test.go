// Package interop tests duplex against real peers: Node's ws package,
// gorilla/websocket, coder/websocket and headless Chromium. It is its own
// module so that none of them enters duplex's dependency graph.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

// requireTool finds a program the test needs. In CI a missing peer is a
// failure (the CI script installs them); elsewhere the test is skipped.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// requireNodeModules skips (fails in CI) unless node and the npm
// packages named are installed (ws when none are named).
func requireNodeModules(t *testing.T, pkgs ...string) {
	t.Helper()
	requireTool(t, "node")
	if len(pkgs) == 0 {
		pkgs = []string{"ws"}
	}
	for _, p := range pkgs {
		if _, err := os.Stat(filepath.Join("node_modules", p)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("node_modules/%s missing: run npm ci in interop/", p)
			}
			t.Skipf("node_modules/%s missing: run npm ci in interop/", p)
		}
	}
}

// duplexEcho serves duplex's echo loop and reports each connection's end.
func duplexEcho(t *testing.T, compress bool) (url string, ends chan error) {
	ends = make(chan error, 100)
	opts := &ws.ServerOptions{Upgrader: handshake.Upgrader{InsecureSkipOriginCheck: true}}
	if compress {
		opts.Compression = &ws.CompressionOptions{}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
			if err != nil {
				ends <- err
				return
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				ends <- err
				return
			}
			buf = msg
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/", ends
}

// messages returns n deterministic random messages of assorted sizes.
func messages(n int, seed uint64) []struct {
	typ  ws.MessageType
	data []byte
} {
	rng := rand.New(rand.NewPCG(seed, seed))
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}
	out := make([]struct {
		typ  ws.MessageType
		data []byte
	}, n)
	for i := range out {
		size := rng.IntN(20000)
		if i < len(sizes) {
			size = sizes[i]
		}
		b := make([]byte, size)
		if i%2 == 0 {
			out[i].typ = ws.Text
			for k := range b {
				b[k] = "abcdefghij -_/"[rng.IntN(14)]
			}
		} else {
			out[i].typ = ws.Binary
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
		}
		out[i].data = b
	}
	return out
}

// echoThrough sends messages through an echo peer with a duplex client
// and compares every echo byte for byte; every third message is streamed
// with NextWriter in pieces.
func echoThrough(t *testing.T, c *ws.Conn, n int) {
	t.Helper()
	ctx := context.Background()
	for i, m := range messages(n, 7) {
		if i%3 == 2 {
			w, err := c.NextWriter(ctx, m.typ)
			if err != nil {
				t.Fatal(err)
			}
			for rest := m.data; len(rest) > 0; {
				k := min(len(rest), 1000)
				w.Write(rest[:k])
				rest = rest[k:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		} else if err := c.WriteMessage(ctx, m.typ, m.data); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		typ, got, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatalf("message %d (%d bytes): %v", i, len(m.data), err)
		}
		if typ != m.typ || !bytes.Equal(got, m.data) {
			t.Fatalf("message %d: echo differs (%v, %d bytes; sent %v, %d bytes)", i, typ, len(got), m.typ, len(m.data))
		}
	}
}

type nodeResult struct {
	OK         bool   `json:"ok"`
	Messages   int    `json:"messages"`
	Code       int    `json:"code"`
	Why        string `json:"why"`
	Extensions string `json:"extensions"`
}

func TestNodeClientToDuplexServer(t *testing.T) {
	requireNodeModules(t)
	for _, mode := range []string{"plain", "deflate"} {
		t.Run(mode, func(t *testing.T) {
			url, ends := duplexEcho(t, mode == "deflate")
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "node", "node/client.js", url, mode, "300").Output()
			var res nodeResult
			json.Unmarshal(bytes.TrimSpace(out), &res)
			if err != nil || !res.OK {
				t.Fatalf("node client: %v: %s", err, out)
			}
			if mode == "deflate" && !strings.Contains(res.Extensions, "permessage-deflate") {
				t.Fatalf("deflate not negotiated: %q", res.Extensions)
			}
			if res.Code != 4000 {
				t.Fatalf("node saw close code %d", res.Code)
			}
			select {
			case err := <-ends:
				if ws.CloseStatus(err) != 4000 {
					t.Fatalf("server saw %v, want close 4000", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("server did not see the close")
			}
		})
	}
}

// startNodeServer runs node/server.js and returns its ws:// URL.
func startNodeServer(t *testing.T, mode string) string {
	cmd := exec.Command("node", "node/server.js", mode)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("node server: %v", err)
	}
	return "ws://127.0.0.1:" + strings.TrimSpace(line) + "/"
}

func TestDuplexClientToNodeServer(t *testing.T) {
	requireNodeModules(t)
	for _, mode := range []string{"plain", "deflate", "deflate-nocontext"} {
		t.Run(mode, func(t *testing.T) {
			url := startNodeServer(t, mode)
			var opts ws.DialOptions
			if mode != "plain" {
				opts.Compression = &ws.CompressionOptions{}
			}
			c, err := ws.Dial(context.Background(), url, &opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.Compressed() != (mode != "plain") {
				t.Fatalf("compressed = %v", c.Compressed())
			}
			echoThrough(t, c, 300)
			if err := c.Close(frame.CloseNormal, "bye"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
