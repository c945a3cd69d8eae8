package interop

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/duplexgo/duplex/comet"
)

// TestEngineIOClients runs the real engine.io-client and socket.io-client
// (npm) against a duplex server's Engine.IO dialect on polling alone,
// WebSocket alone, and polling upgraded to WebSocket: 40 messages with
// every fifth one binary arrive once and in order, each echo comes back,
// the heartbeat (a ping every 200 ms) keeps the session alive, and
// Socket.IO's event acknowledgement reaches the client.
func TestEngineIOClients(t *testing.T) {
	requireNodeModules(t, "engine.io-client", "socket.io-client")
	for _, mode := range []string{"eio", "sio"} {
		for _, transports := range []string{"polling", "websocket", "polling,websocket"} {
			t.Run(mode+" "+transports, func(t *testing.T) {
				t.Parallel()
				runEngineIOClient(t, mode, transports)
			})
		}
	}
}

func runEngineIOClient(t *testing.T, mode, transports string) {
	const n = 40
	type serverSide struct {
		echoes []comet.Message
		chat   *comet.Message
		err    error
	}
	done := make(chan serverSide, 1)
	srv := comet.NewServer(comet.Options{}, func(s *comet.Session) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var res serverSide
		defer func() { done <- res }()
		for { // Socket.IO emits "chat" before "ready"
			m, err := s.Receive(ctx)
			if err != nil {
				res.err = err
				return
			}
			if m.Event != "" {
				res.chat = &m
				continue
			}
			if m.Data == "ready" {
				break
			}
		}
		for i := 0; i < n; i++ {
			if err := s.SendMessage(ctx, cometMessage(i)); err != nil {
				res.err = err
				return
			}
			// Interleave so that an upgrade happens with traffic in flight.
			if i%8 == 7 {
				time.Sleep(120 * time.Millisecond)
			}
		}
		for len(res.echoes) < n {
			m, err := s.Receive(ctx)
			if err != nil {
				res.err = err
				return
			}
			res.echoes = append(res.echoes, m)
		}
		s.Send(ctx, "end")
	})
	eo := comet.EngineIOOptions{SocketIO: mode == "sio", PingInterval: 200 * time.Millisecond, PingTimeout: 2 * time.Second}
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv.EngineIO(eo))
	mux.Handle("/socket.io/", srv.EngineIO(eo))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer srv.Shutdown(context.Background(), "test over")

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "node/eio_client.js", mode, ts.URL, transports).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		Got        []string
		Transports []string
		Acked      bool
		Error      string
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
		t.Fatalf("client: %v %q", err, out)
	}
	side := <-done
	if side.err != nil {
		t.Fatalf("server: %v", side.err)
	}
	if len(res.Got) != n || len(side.echoes) != n {
		t.Fatalf("client got %d messages, server %d echoes; want %d", len(res.Got), len(side.echoes), n)
	}
	for i, got := range res.Got {
		want, echo := cometMessage(i), side.echoes[i]
		if want.Binary {
			w := "bin:" + hex.EncodeToString([]byte(want.Data))
			if got != w || echo != want {
				t.Fatalf("binary message %d: client %q, echo %+v", i, got, echo)
			}
		} else if got != want.Data || echo != (comet.Message{Data: "echo:" + want.Data}) {
			t.Fatalf("message %d: client %q, echo %+v", i, got, echo)
		}
	}
	if wantT := []string{"polling", "websocket"}; transports == "polling,websocket" && !slices.Equal(res.Transports, wantT) {
		t.Errorf("transports %v, want the upgrade %v", res.Transports, wantT)
	}
	if mode == "sio" {
		if side.chat == nil || side.chat.Event != "chat" || side.chat.Data != `["hello",{"n":1}]` {
			t.Errorf("chat event %+v", side.chat)
		}
		if !res.Acked {
			t.Error("the event's acknowledgement did not reach the client")
		}
	}
}
