package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duplexgo/duplex/comet"
)

// sioPoller is a Socket.IO client on HTTP long polling (Engine.IO v4),
// the same for every server: it joins the main namespace, answers pings,
// and counts "message" events.
func sioPoller(ctx context.Context, base string, st *fanoutStats, ready *sync.WaitGroup) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("GET: %d %s", resp.StatusCode, b)
		}
		return string(b), err
	}
	post := func(url, body string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	open, err := get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil || !strings.HasPrefix(open, "0") {
		ready.Done()
		return
	}
	var hs struct{ SID string }
	json.Unmarshal([]byte(open[1:]), &hs)
	url := base + "/socket.io/?EIO=4&transport=polling&sid=" + hs.SID
	post(url, "40")
	joined := false
	var n int64
	for ctx.Err() == nil {
		body, err := get(url)
		if err != nil {
			return
		}
		for _, p := range strings.Split(body, "\x1e") {
			switch {
			case strings.HasPrefix(p, "40"):
				if !joined {
					joined = true
					ready.Done()
				}
			case strings.HasPrefix(p, "42"):
				n++
				st.record(p, n)
			case p == "2":
				post(url, "3")
			}
		}
	}
}

// nativePoller is a duplex-dialect long-polling client: it polls with its
// acknowledgement and counts messages.
func nativePoller(ctx context.Context, base, id string, st *fanoutStats) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var ack int64
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/poll?id=%s&ack=%d", base, id, ack), nil)
		resp, err := client.Do(req)
		if err != nil {
			return
		}
		var r struct {
			Messages []struct {
				Seq  int64
				Data string
			}
		}
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		for _, m := range r.Messages {
			ack = m.Seq
			st.record(m.Data, m.Seq)
		}
	}
}

// startSocketIO runs the Node socket.io server of bench/node and returns
// its base URL, or skips when Node or its packages are missing.
func startSocketIO(b *testing.B) string {
	if _, err := exec.LookPath("node"); err != nil {
		b.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules", "socket.io")); err != nil {
		b.Skip("bench/node/node_modules missing: npm ci in bench/node (make bench does)")
	}
	cmd := exec.Command("node", "node/socketio_server.js", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	var port int
	if _, err := fmt.Sscanf(line, "listening %d", &port); err != nil {
		b.Fatalf("socket.io server: %q", line)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// BenchmarkLongPollFanout publishes 64-byte messages to 100 clients on
// HTTP long polling; one op is one message delivered to all of them.
// socket.io (Node, polling only) and duplex's Socket.IO dialect serve the
// same Go Socket.IO polling client; duplex-native is duplex's own dialect
// with its own client (acknowledging with each poll).
func BenchmarkLongPollFanout(b *testing.B) {
	msg := strings.Repeat("m", 64)
	run := func(b *testing.B, start func(st *fanoutStats) (publish func(n int))) {
		st := &fanoutStats{every: 16}
		publish := start(st)
		b.ReportAllocs()
		b.ResetTimer()
		// Publish in batches, as a busy feed does; pollers take what has
		// piled up since their last poll.
		for left := b.N; left > 0; left -= 100 {
			publish(min(left, 100))
			waitFanout(b, st, int64(b.N-left+min(left, 100))*fanoutClients)
		}
		b.StopTimer()
	}
	b.Run("socket.io", func(b *testing.B) {
		base := startSocketIO(b)
		run(b, func(st *fanoutStats) func(int) {
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(cancel)
			var ready sync.WaitGroup
			ready.Add(fanoutClients)
			for range fanoutClients {
				go sioPoller(ctx, base, st, &ready)
			}
			ready.Wait()
			return func(n int) {
				resp, err := http.Post(fmt.Sprintf("%s/publish?n=%d", base, n), "text/plain", strings.NewReader(msg))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
	b.Run("duplex", func(b *testing.B) {
		hub := comet.NewHub()
		srv := comet.NewServer(comet.Options{QueueLen: 1 << 16}, func(s *comet.Session) { hub.Join(s, "all") })
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", srv.EngineIO(comet.EngineIOOptions{SocketIO: true}))
		ts := httptest.NewServer(mux)
		b.Cleanup(func() { srv.Shutdown(context.Background(), ""); ts.Close() })
		run(b, func(st *fanoutStats) func(int) {
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(cancel)
			var ready sync.WaitGroup
			ready.Add(fanoutClients)
			for range fanoutClients {
				go sioPoller(ctx, ts.URL, st, &ready)
			}
			ready.Wait()
			for hub.Len("all") < fanoutClients {
				time.Sleep(time.Millisecond)
			}
			return func(n int) {
				for range n {
					hub.Broadcast("all", msg)
				}
			}
		})
	})
	b.Run("duplex-native", func(b *testing.B) {
		hub := comet.NewHub()
		srv := comet.NewServer(comet.Options{QueueLen: 1 << 16}, func(s *comet.Session) { hub.Join(s, "all") })
		ts := httptest.NewServer(srv)
		b.Cleanup(func() { srv.Shutdown(context.Background(), ""); ts.Close() })
		run(b, func(st *fanoutStats) func(int) {
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(cancel)
			for range fanoutClients {
				id, err := openSession(http.DefaultClient, ts.URL)
				if err != nil {
					b.Fatal(err)
				}
				go nativePoller(ctx, ts.URL, id, st)
			}
			for hub.Len("all") < fanoutClients {
				time.Sleep(time.Millisecond)
			}
			return func(n int) {
				for range n {
					hub.Broadcast("all", msg)
				}
			}
		})
	})
}
