package ws

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestPreparedMessage: every variant delivers the message; the variants
// that can share bytes encode once for all their connections.
func TestPreparedMessage(t *testing.T) {
	msg := []byte(strings.Repeat("a prepared message, repeated; ", 20))
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		opts   Options
		frames int // frames the PreparedMessage should cache
	}{
		{"plain", Options{}, 1},
		{"deflate without context takeover", Options{Compression: &CompressionOptions{NoContextTakeover: true}}, 1},
		{"deflate with context takeover", Options{Compression: &CompressionOptions{}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pm, err := NewPreparedMessage(Text, msg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				server, client := pipePair(t, tc.opts)
				if err := server.WritePrepared(ctx, pm); err != nil {
					t.Fatal(err)
				}
				if err := client.WritePrepared(ctx, pm); err != nil { // clients encode for themselves
					t.Fatal(err)
				}
				for _, c := range []*Conn{client, server} {
					typ, got, err := c.ReadMessage(ctx, nil)
					if err != nil || typ != Text || !bytes.Equal(got, msg) {
						t.Fatalf("read %v %q %v", typ, got, err)
					}
				}
				server.CloseNow()
				client.CloseNow()
			}
			n := 0
			if fs := pm.frames.Load(); fs != nil {
				n = len(*fs)
			}
			if n != tc.frames {
				t.Fatalf("%d cached frames, want %d", n, tc.frames)
			}
		})
	}
	if _, err := NewPreparedMessage(MessageType(9), nil); err != ErrMessageType {
		t.Fatalf("bad type: %v", err)
	}
}

func TestPreparedMessageAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	server, client := pipePair(t, Options{})
	go func() {
		for {
			if _, _, err := client.ReadMessage(context.Background(), nil); err != nil {
				return
			}
		}
	}()
	pm, _ := NewPreparedMessage(Binary, make([]byte, 100))
	ctx := context.Background()
	server.WritePrepared(ctx, pm)
	if n := testing.AllocsPerRun(200, func() { server.WritePrepared(ctx, pm) }); n != 0 {
		t.Fatalf("%v allocations per WritePrepared", n)
	}
	server.CloseNow()
	client.CloseNow()
}
