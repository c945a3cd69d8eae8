package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/duplexgo/duplex/comet"
)

// fanoutClients is how many clients the comet fan-out benchmarks serve.
const fanoutClients = 100

// fanoutMessage is a 64-byte message carrying its send time.
func fanoutMessage() string {
	return fmt.Sprintf("%019d", time.Now().UnixNano()) + strings.Repeat("x", 45)
}

// sentAt reads the send time out of a line holding a fanoutMessage.
func sentAt(line string) (time.Time, bool) {
	for i := 0; i+19 <= len(line); i++ {
		if line[i] >= '0' && line[i] <= '9' {
			n, err := strconv.ParseInt(line[i:i+19], 10, 64)
			return time.Unix(0, n), err == nil
		}
	}
	return time.Time{}, false
}

// fanoutStats collects what the clients saw.
type fanoutStats struct {
	every    int64 // sample the latency of one message in every
	received atomic.Int64
	mu       sync.Mutex
	lat      []time.Duration // sampled
}

func (s *fanoutStats) record(line string, n int64) {
	s.received.Add(1)
	if s.every > 1 && n%s.every != 0 {
		return
	}
	if t, ok := sentAt(line); ok {
		d := time.Since(t)
		s.mu.Lock()
		s.lat = append(s.lat, d)
		s.mu.Unlock()
	}
}

func (s *fanoutStats) p99() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return 0
	}
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	return s.lat[len(s.lat)*99/100]
}

// openSession opens a session of a comet Server's own dialect at base
// (the Server's prefix) and returns its id.
func openSession(client *http.Client, base string) (string, error) {
	resp, err := client.Post(base+"/open", "", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var open struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&open); err != nil || open.ID == "" {
		return "", fmt.Errorf("open: %d %v", resp.StatusCode, err)
	}
	return open.ID, nil
}

// readSSE reads an event stream until it ends, recording each event's
// data line and calling then (if set) with the count so far.
func readSSE(body io.Reader, st *fanoutStats, then func(n int64)) {
	br := bufio.NewReader(body)
	var n int64
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasPrefix(line, "data:") {
			n++
			st.record(line, n)
			if then != nil {
				then(n)
			}
		}
	}
}

// waitFanout waits until every client has every message.
func waitFanout(b *testing.B, st *fanoutStats, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; st.received.Load() < want; i++ {
		if time.Now().After(deadline) {
			b.Fatalf("clients received %d of %d messages", st.received.Load(), want)
		}
		if i < 1000 {
			runtime.Gosched() // a paced round trip is short: spin a little first
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// BenchmarkSSEFanout publishes 64-byte messages to 100 Server-Sent Events
// clients as fast as the server takes them; one op is one message
// delivered to all of them. The clients are the same line readers for
// both servers; duplex's also acknowledge (an empty POST every 64
// messages), as its browser client does, so that its server can forget
// what arrived.
func BenchmarkSSEFanout(b *testing.B) { sseBench(b, false) }

// BenchmarkSSELatency publishes one message at a time to the same 100
// clients and waits until all have it; it reports the p99 of the delivery
// latency (send to a client's read, every client, every message).
func BenchmarkSSELatency(b *testing.B) { sseBench(b, true) }

// publishLoop publishes b.N messages; paced, it waits for each to reach
// every client before the next.
func publishLoop(b *testing.B, st *fanoutStats, paced bool, publish func()) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		publish()
		if paced {
			waitFanout(b, st, int64(i+1)*fanoutClients)
		}
	}
	waitFanout(b, st, int64(b.N)*fanoutClients)
	b.StopTimer()
	if paced {
		b.ReportMetric(float64(st.p99().Nanoseconds())/1000, "p99-us")
	}
}

func sseBench(b *testing.B, paced bool) {
	every := int64(16)
	if paced {
		every = 1
	}
	for _, ack := range []bool{true, false} {
		name := "duplex"
		if !ack {
			name = "duplex-unacked"
		}
		b.Run(name, func(b *testing.B) { duplexSSE(b, paced, ack, every) })
	}
	goSSE(b, paced, every)
}

// duplexSSE runs the SSE benchmarks against a comet Server and Hub;
// with ack, each client acknowledges every 64 messages.
func duplexSSE(b *testing.B, paced, ack bool, every int64) {
	{
		hub := comet.NewHub()
		var joined sync.WaitGroup
		joined.Add(fanoutClients)
		srv := comet.NewServer(comet.Options{QueueLen: 1 << 16, Heartbeat: time.Hour}, func(s *comet.Session) {
			hub.Join(s, "all")
			joined.Done()
		})
		ts := httptest.NewServer(srv)
		defer ts.Close()
		defer srv.Shutdown(context.Background(), "")
		st := &fanoutStats{every: every}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range fanoutClients {
			id, err := openSession(http.DefaultClient, ts.URL)
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/sse?id="+id, nil)
			stream, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			acks := make(chan int64, 1)
			go func() {
				for n := range acks {
					r, err := http.Post(fmt.Sprintf("%s/send?id=%s&ack=%d", ts.URL, id, n), "application/json", strings.NewReader("[]"))
					if err == nil {
						io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
				}
			}()
			go func() {
				defer stream.Body.Close()
				defer close(acks)
				readSSE(stream.Body, st, func(n int64) {
					if ack && n%64 == 0 {
						select {
						case acks <- n:
						default:
						}
					}
				})
			}()
		}
		joined.Wait()
		publishLoop(b, st, paced, func() {
			if _, dropped := hub.Broadcast("all", fanoutMessage()); dropped > 0 {
				b.Fatalf("%d sessions' queues were full", dropped)
			}
		})
	}
}

// goSSE runs the SSE benchmarks against github.com/tmaxmax/go-sse.
func goSSE(b *testing.B, paced bool, every int64) {
	b.Run("go-sse", func(b *testing.B) {
		srv := &sse.Server{}
		var joined sync.WaitGroup
		joined.Add(fanoutClients)
		srv.OnSession = func(w http.ResponseWriter, r *http.Request) ([]string, bool) {
			joined.Done()
			return []string{sse.DefaultTopic}, true
		}
		ts := httptest.NewUnstartedServer(srv)
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // go-sse writes a header after its clients go
		ts.Start()
		defer ts.Close()
		defer srv.Shutdown(context.Background())
		st := &fanoutStats{every: every}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range fanoutClients {
			// go-sse sends its headers with the first event: read in the
			// background from the start.
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
				stream, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer stream.Body.Close()
				readSSE(stream.Body, st, nil)
			}()
		}
		joined.Wait()
		time.Sleep(50 * time.Millisecond) // the subscriptions reach the provider
		publishLoop(b, st, paced, func() {
			m := &sse.Message{}
			m.AppendData(fanoutMessage())
			if err := srv.Publish(m); err != nil {
				b.Fatal(err)
			}
		})
	})
}
