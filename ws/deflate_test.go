package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
)

func exts(t *testing.T, v string) []handshake.Extension {
	t.Helper()
	e, err := handshake.ParseExtensions(nil, v)
	if err != nil {
		t.Fatalf("%q: %v", v, err)
	}
	return e
}

func TestNegotiateDeflateServer(t *testing.T) {
	for _, tc := range []struct {
		offer  string
		opts   CompressionOptions
		answer string // "" for declined
		params deflateParams
	}{
		{"permessage-deflate", CompressionOptions{}, "permessage-deflate", deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; client_max_window_bits", CompressionOptions{}, "permessage-deflate", deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; client_max_window_bits=10", CompressionOptions{}, "permessage-deflate", deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; server_no_context_takeover", CompressionOptions{}, "permessage-deflate; server_no_context_takeover", deflateParams{sendNoContext: true, sendWindowBits: 15}},
		{"permessage-deflate; client_no_context_takeover", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", deflateParams{recvNoContext: true, sendWindowBits: 15}},
		{"permessage-deflate; server_max_window_bits=8", CompressionOptions{}, "permessage-deflate; server_max_window_bits=8", deflateParams{sendWindowBits: 8}},
		{"permessage-deflate; server_max_window_bits=15", CompressionOptions{}, "permessage-deflate; server_max_window_bits=15", deflateParams{sendWindowBits: 15}},
		{"permessage-deflate", CompressionOptions{NoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", deflateParams{sendNoContext: true, recvNoContext: true, sendWindowBits: 15}},
		// Unusable offers are skipped; the next acceptable one wins.
		{"permessage-deflate; server_max_window_bits=7, permessage-deflate", CompressionOptions{}, "permessage-deflate", deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; server_max_window_bits=16", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; server_max_window_bits", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; server_max_window_bits=08", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; client_max_window_bits=7", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; server_no_context_takeover=1", CompressionOptions{}, "", deflateParams{}},
		{"permessage-deflate; unknown", CompressionOptions{}, "", deflateParams{}},
		{"x-webkit-deflate-frame", CompressionOptions{}, "", deflateParams{}},
		{"foo, permessage-deflate; client_no_context_takeover; client_max_window_bits", CompressionOptions{}, "permessage-deflate; client_no_context_takeover", deflateParams{recvNoContext: true, sendWindowBits: 15}},
	} {
		t.Run(tc.offer, func(t *testing.T) {
			ans, p, ok := negotiateDeflateServer(exts(t, tc.offer), &tc.opts)
			if tc.answer == "" {
				if ok {
					t.Fatalf("accepted with %q", ans.String())
				}
				return
			}
			if !ok || ans.String() != tc.answer || p != tc.params {
				t.Fatalf("answer %q %+v (ok %v), want %q %+v", ans.String(), p, ok, tc.answer, tc.params)
			}
		})
	}
}

func TestAcceptDeflateAnswer(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		opts    CompressionOptions
		ok, bad bool
		params  deflateParams
	}{
		{"", CompressionOptions{}, false, false, deflateParams{}},
		{"permessage-deflate", CompressionOptions{}, true, false, deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; server_no_context_takeover", CompressionOptions{}, true, false, deflateParams{recvNoContext: true, sendWindowBits: 15}},
		{"permessage-deflate; client_no_context_takeover", CompressionOptions{}, true, false, deflateParams{sendNoContext: true, sendWindowBits: 15}},
		{"permessage-deflate; client_max_window_bits=9", CompressionOptions{}, true, false, deflateParams{sendWindowBits: 9}},
		{"permessage-deflate; server_max_window_bits=10", CompressionOptions{}, true, false, deflateParams{sendWindowBits: 15}},
		{"permessage-deflate; client_max_window_bits", CompressionOptions{}, false, true, deflateParams{}},
		{"permessage-deflate; client_max_window_bits=16", CompressionOptions{}, false, true, deflateParams{}},
		{"permessage-deflate; bogus", CompressionOptions{}, false, true, deflateParams{}},
		{"permessage-deflate, permessage-deflate", CompressionOptions{}, false, true, deflateParams{}},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", CompressionOptions{}, false, true, deflateParams{}},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			var e []handshake.Extension
			if tc.answer != "" {
				e = exts(t, tc.answer)
			}
			p, ok, err := acceptDeflateAnswer(e, &tc.opts)
			if (err != nil) != tc.bad || ok != tc.ok || p != tc.params {
				t.Fatalf("got %+v ok=%v err=%v", p, ok, err)
			}
		})
	}
}

// TestCompressedEchoModes echoes random and compressible messages of many
// sizes, whole and streamed in small fragments, in every context mode and
// with a window limit, between our client and server.
func TestCompressedEchoModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	compressible := func(n int) []byte {
		words := []string{"alpha ", "beta ", "gamma ", "delta ", "{\"k\":1} "}
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.Bytes()[:n]
	}
	for _, mode := range []struct {
		name   string
		server CompressionOptions
		client CompressionOptions
	}{
		{"context takeover", CompressionOptions{}, CompressionOptions{}},
		{"no context takeover", CompressionOptions{NoContextTakeover: true}, CompressionOptions{}},
		{"client asks no context", CompressionOptions{}, CompressionOptions{NoContextTakeover: true}},
		{"min size 0", CompressionOptions{MinSize: 1}, CompressionOptions{MinSize: 1}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			url := echoServer(t, &ServerOptions{Options: Options{Compression: &mode.server, WriteBufferSize: 700}})
			c, err := Dial(context.Background(), url, &DialOptions{Options: Options{Compression: &mode.client, WriteBufferSize: 300}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if !c.Compressed() {
				t.Fatal("not compressed")
			}
			for _, n := range []int{0, 1, 63, 64, 65, 1000, 32 << 10, 40 << 10, 300 << 10, 1 << 20} {
				for k, msg := range [][]byte{randomBytes(rng, n, false), compressible(n)} {
					typ := Binary
					if k == 1 {
						typ = Text
					}
					if n%2 == 0 {
						if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
							t.Fatal(err)
						}
					} else {
						w, _ := c.NextWriter(context.Background(), typ)
						for rest := msg; len(rest) > 0; {
							k := min(len(rest), 1+rng.IntN(3000))
							w.Write(rest[:k])
							rest = rest[k:]
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
					}
					gotTyp, got, err := c.ReadMessage(context.Background(), nil)
					if err != nil || gotTyp != typ || !bytes.Equal(got, msg) {
						t.Fatalf("%d bytes (%v): got %d bytes, %v", n, typ, len(got), err)
					}
				}
			}
		})
	}
}

func ExampleDial() {
	ctx := context.Background()
	c, err := Dial(ctx, "ws://127.0.0.1:8080/ws", &DialOptions{
		Options: Options{Compression: &CompressionOptions{}},
	})
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, Text, []byte("hello"))
	_, msg, _ := c.ReadMessage(ctx, nil)
	fmt.Println(string(msg))
}

// TestUnreadCompressedMessageKeepsContext: a message read only in part
// through NextReader is still inflated to its end, so the next message,
// which refers back into it (context takeover), inflates correctly.
func TestUnreadCompressedMessageKeepsContext(t *testing.T) {
	server, client := pipePair(t, Options{Compression: &CompressionOptions{}})
	ctx := context.Background()
	first := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog "), 500)
	second := append([]byte("again: "), first[:4000]...)
	go func() {
		client.WriteMessage(ctx, Text, first)
		client.WriteMessage(ctx, Text, second)
	}()
	_, r, err := server.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 100)
	if _, err := io.ReadFull(r, part); err != nil {
		t.Fatal(err)
	}
	_, got, err := server.ReadMessage(ctx, nil)
	if err != nil || !bytes.Equal(got, second) {
		t.Fatalf("second message: %d bytes, %v", len(got), err)
	}
}

// TestCompressedWireLimit: a compressed message whose wire size runs past
// the read limit is refused with 1009 even if it inflates to little.
func TestCompressedWireLimit(t *testing.T) {
	server, client := pipePair(t, Options{ReadLimit: 4096, Compression: &CompressionOptions{}})
	ctx := context.Background()
	// Empty stored blocks: 5 wire bytes each, nothing inflated.
	empty := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 2000)
	go func() {
		client.writeMu.Lock()
		client.writeFrameLocked(frame.OpBinary, true, frame.RSV1, empty)
		client.writeMu.Unlock()
		client.ReadMessage(ctx, nil)
	}()
	_, _, err := server.ReadMessage(ctx, nil)
	if !errors.Is(err, frame.ErrMessageTooBig) {
		t.Fatalf("got %v, want ErrMessageTooBig", err)
	}
}

// TestWriteUncompressed: with deflate negotiated, WriteUncompressed sends
// the message without RSV1 and WriteMessage with it.
func TestWriteUncompressed(t *testing.T) {
	server, client := pipePair(t, Options{Compression: &CompressionOptions{}})
	ctx := context.Background()
	msg := bytes.Repeat([]byte("compressible "), 100)
	client.WriteUncompressed(ctx, Binary, msg)
	client.WriteMessage(ctx, Binary, msg)
	for i, wantRSV1 := range []bool{false, true} {
		f, r, err := server.NextFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.RSV&frame.RSV1 != 0; got != wantRSV1 {
			t.Fatalf("message %d: RSV1 %v, want %v", i, got, wantRSV1)
		}
		io.Copy(io.Discard, r)
	}
}
