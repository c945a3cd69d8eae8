package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/duplexgo/duplex/comet"
)

// sockjsMessage is the i'th message of the SockJS tests: text with the
// characters SockJS escapes (U+200C, U+2028, U+FFF0), non-ASCII and
// markup.
func sockjsMessage(i int) string {
	return fmt.Sprintf("m%d κόσμε \u200c\u2028\ufff0 \"q\" </script>\n\x01", i)
}

// sockjsEcho is the server side of the SockJS tests: after the client's
// "ready" it sends n messages (pausing every ten when pause is set, so
// that heartbeats and several polls happen), collects n echoes, sends
// "end" and hands the echoes over (nil when the client never got ready).
func sockjsEcho(n int, pause bool, echoes chan<- []string) func(*comet.Session) {
	return func(s *comet.Session) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if m, err := s.Receive(ctx); err != nil || m.Data != "ready" {
			echoes <- nil
			return
		}
		for i := 0; i < n; i++ {
			s.Send(ctx, sockjsMessage(i))
			if pause && i%10 == 9 {
				time.Sleep(50 * time.Millisecond)
			}
		}
		var up []string
		for len(up) < n {
			m, err := s.Receive(ctx)
			if err != nil {
				break
			}
			up = append(up, m.Data)
		}
		s.Send(ctx, "end")
		echoes <- up
	}
}

// TestSockJSClient runs the real sockjs-client (npm) against a duplex
// server's SockJS dialect on each transport it has in Node: 30 messages
// arrive once and in order and every echo comes back.
func TestSockJSClient(t *testing.T) {
	requireNodeModules(t, "sockjs-client")
	for _, transport := range []string{"websocket", "xhr-streaming", "xhr-polling", "eventsource"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			runSockJSClient(t, transport)
		})
	}
}

func runSockJSClient(t *testing.T, transport string) {
	const n = 30
	echoes := make(chan []string, 1)
	srv := comet.NewServer(comet.Options{}, sockjsEcho(n, true, echoes))
	mux := http.NewServeMux()
	mux.Handle("/sockjs/", srv.SockJS("/sockjs", comet.SockJSOptions{Heartbeat: 300 * time.Millisecond}))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer srv.Shutdown(context.Background(), "test over")

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "node/sockjs_client.js", ts.URL+"/sockjs", transport).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		Got       []string
		Transport string
		Error     string
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
		t.Fatalf("client: %v %q", err, out)
	}
	if res.Transport != transport {
		t.Errorf("transport %q, want %q", res.Transport, transport)
	}
	up := <-echoes
	if len(res.Got) != n || len(up) != n {
		t.Fatalf("client got %d messages, server %d echoes; want %d", len(res.Got), len(up), n)
	}
	for i := range n {
		if want := sockjsMessage(i); res.Got[i] != want || up[i] != "echo:"+want {
			t.Fatalf("message %d: client %q, echo %q", i, res.Got[i], up[i])
		}
	}
}

// sockjsPage runs sockjs-client in the browser on the transport named in
// the query, echoes every message as "echo:" + text until "end", and
// posts what it saw to /result.
const sockjsPage = `<!doctype html><meta charset=utf-8><script src="/sockjs.js"></script><script>
const transport = new URLSearchParams(location.search).get('t');
const got = [];
let used = null;
const sock = new SockJS('/sockjs', null, { transports: [transport] });
sock.onopen = () => { used = sock.transport; sock.send('ready'); };
sock.onmessage = (e) => {
  if (e.data === 'end') { fetch('/result', { method: 'POST', body: JSON.stringify({ got, transport: used }) }); return; }
  got.push(e.data);
  sock.send('echo:' + e.data);
};
sock.onclose = (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ got, transport: used, error: 'closed ' + e.code }) });
</script>`

// TestSockJSInChromium runs sockjs-client's browser-only transports (the
// htmlfile forever iframe, JSONP polling, and those behind its
// cross-domain iframe page) in headless Chromium.
func TestSockJSInChromium(t *testing.T) {
	bin := requireTool(t, "chromium")
	requireNodeModules(t, "sockjs-client")
	for _, transport := range []string{"htmlfile", "jsonp-polling", "iframe-eventsource", "iframe-xhr-polling", "xhr-streaming", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			const n = 20
			echoes := make(chan []string, 1)
			srv := comet.NewServer(comet.Options{}, sockjsEcho(n, false, echoes))
			results := make(chan []byte, 1)
			mux := http.NewServeMux()
			mux.Handle("/sockjs/", srv.SockJS("/sockjs", comet.SockJSOptions{ClientURL: "/sockjs.js"}))
			mux.HandleFunc("/sockjs.js", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, "node_modules/sockjs-client/dist/sockjs.min.js")
			})
			mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				select {
				case results <- b:
				default:
				}
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, sockjsPage)
			})
			ts := httptest.NewServer(mux)
			defer ts.Close()
			defer srv.Shutdown(context.Background(), "test over")
			defer startChromium(t, bin, ts.URL+"/?t="+transport)()
			var res struct {
				Got       []string
				Transport string
				Error     string
			}
			select {
			case b := <-results:
				json.Unmarshal(b, &res)
			case <-time.After(30 * time.Second):
				t.Fatal("no result from the browser")
			}
			if res.Error != "" || res.Transport != transport {
				t.Fatalf("transport %q, error %q", res.Transport, res.Error)
			}
			up := <-echoes
			if len(res.Got) != n || len(up) != n {
				t.Fatalf("browser got %d messages, server %d echoes; want %d", len(res.Got), len(up), n)
			}
			for i := range n {
				if want := sockjsMessage(i); res.Got[i] != want || up[i] != "echo:"+want {
					t.Fatalf("message %d: browser %q, echo %q", i, res.Got[i], up[i])
				}
			}
		})
	}
}
