package interop

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexgo/duplex/comet"
)

// cometPage loads the comet client with the transports named in the
// query, reports the transport it opened with, receives messages until
// "end", echoes each one up (binary ones as binary), and posts what it saw
// to /result (a binary message as "bin:" and its bytes in hex).
const cometPage = `<!doctype html><meta charset=utf-8><script type=module>
import { connect } from '/comet/client.js';
const transports = new URLSearchParams(location.search).get('t').split(',');
const got = [], opened = [];
const s = connect('/comet', {
  transports, openTimeout: 1500, pollInterval: 100,
  onopen: (t) => { opened.push(t); if (opened.length === 1) s.send('ready'); },
  onmessage: (d) => {
    if (d === 'end') { fetch('/result', {method: 'POST', body: JSON.stringify({got, opened})}); return; }
    if (d instanceof Uint8Array) {
      got.push('bin:' + Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''));
      s.send(d);
      return;
    }
    got.push(d);
    s.send('echo:' + d);
  },
});
</script>`

func TestCometInChromium(t *testing.T) {
	bin := requireTool(t, "chromium")
	for _, tc := range []struct {
		name       string
		transports string
		blockWS    bool
		drop       bool // kill every connection half way through
		want       string
	}{
		{"websocket", "websocket", false, false, "websocket"},
		{"sse", "sse", false, false, "sse"},
		{"long polling", "poll", false, false, "poll"},
		{"xhr streaming", "stream", false, false, "stream"},
		{"forever iframe", "iframe", false, false, "iframe"},
		{"short polling", "shortpoll", false, false, "shortpoll"},
		{"forever iframe dropped mid-stream", "iframe,poll", false, true, "iframe"},
		{"xhr streaming dropped mid-stream", "stream,poll", false, true, "stream"},
		{"websocket blocked falls back to sse", "websocket,sse,poll", true, false, "sse"},
		{"websocket dropped mid-stream", "websocket,sse,poll", false, true, "websocket"},
		{"sse dropped mid-stream", "sse,poll", false, true, "sse"},
		{"polling dropped mid-stream", "poll", false, true, "poll"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runCometBrowser(t, bin, tc.transports, tc.blockWS, tc.drop, tc.want)
		})
	}
}

func runCometBrowser(t *testing.T, bin, transports string, blockWS, drop bool, want string) {
	const n = 40
	results := make(chan []byte, 1)
	echoes := make(chan []string, 1)
	tl := &trackingListener{} // its Listener is set before the server starts
	srv := comet.NewServer(comet.Options{PollTimeout: 2 * time.Second, Heartbeat: time.Second}, func(s *comet.Session) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if m, err := s.Receive(ctx); err != nil || m.Data != "ready" {
			return
		}
		var up []string
		for i := 0; i < n; i++ {
			if i == n/2 && drop {
				time.Sleep(200 * time.Millisecond)
				tl.closeAll() // every connection, hijacked WebSockets included
			}
			for s.SendMessage(ctx, cometMessage(i)) == comet.ErrQueueFull {
				time.Sleep(10 * time.Millisecond)
			}
		}
		for len(up) < n {
			m, err := s.Receive(ctx)
			if err != nil {
				break
			}
			if m.Binary {
				m.Data = "bin:" + hex.EncodeToString([]byte(m.Data))
			}
			up = append(up, m.Data)
		}
		s.Send(ctx, "end")
		echoes <- up
	})
	mux := http.NewServeMux()
	mux.Handle("/comet/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blockWS && strings.HasSuffix(r.URL.Path, "/ws") {
			http.Error(w, "no websocket here", http.StatusForbidden)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, cometPage)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case results <- b:
		default:
		}
	})
	ts := httptest.NewUnstartedServer(mux)
	tl.Listener = ts.Listener
	ts.Listener = tl
	ts.Start()
	defer ts.Close()
	defer srv.Shutdown(context.Background(), "test over")

	defer startChromium(t, bin, ts.URL+"/?t="+transports)()

	var res struct {
		Got    []string
		Opened []string
	}
	select {
	case b := <-results:
		json.Unmarshal(b, &res)
	case <-time.After(45 * time.Second):
		t.Fatal("no result from the browser")
	}
	if len(res.Opened) == 0 || res.Opened[0] != want {
		t.Fatalf("opened %v, want %s first", res.Opened, want)
	}
	if len(res.Got) != n {
		t.Fatalf("browser got %d messages, want %d: %q", len(res.Got), n, res.Got)
	}
	up := <-echoes
	if len(up) != n {
		t.Fatalf("server got %d echoes, want %d", len(up), n)
	}
	for i, m := range res.Got {
		want := cometMessage(i)
		if want.Binary {
			if s := "bin:" + hex.EncodeToString([]byte(want.Data)); m != s || up[i] != s {
				t.Fatalf("binary message %d: browser %q, echo %q", i, m, up[i])
			}
		} else if m != want.Data || up[i] != "echo:"+want.Data {
			t.Fatalf("message %d: browser %q, echo %q", i, m, up[i])
		}
	}
	// A dropped WebSocket or event stream must be reopened; a dropped
	// poll may be retried by the browser itself, invisibly, so for polling
	// only the messages above are checked.
	if drop && want != "poll" && len(res.Opened) < 2 {
		t.Fatalf("connections were dropped but the client opened only %v", res.Opened)
	}
	t.Logf("opened %v", res.Opened)
}

// cometMessage is the i'th message of runCometBrowser: text that tries to
// break each transport's framing, and every fifth one binary with every
// byte value.
func cometMessage(i int) comet.Message {
	if i%5 == 4 {
		b := make([]byte, 257)
		for j := range 256 {
			b[j] = byte(j)
		}
		b[256] = byte(i)
		return comet.Message{Data: string(b), Binary: true}
	}
	return comet.Message{Data: fmt.Sprintf("m%d κόσμε\n<script>x</script>", i)}
}

// trackingListener remembers every connection it accepts so that a test
// can cut them all, hijacked ones included (httptest's
// CloseClientConnections skips those).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}
