package suite

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
)

// Result is the verdict on one case.
type Result struct {
	ID              string  `json:"id"`
	Description     string  `json:"description"`
	Behavior        string  `json:"behavior"`
	BehaviorClose   string  `json:"behaviorClose"`
	Result          string  `json:"result,omitempty"`
	RemoteCloseCode int     `json:"remoteCloseCode"`
	Received        []Event `json:"-"`
	Duration        float64 `json:"durationMs"`
}

// Passed reports whether the case passed strictly: behaviour OK (or
// INFORMATIONAL for the cases the original reports so), and the closing
// behaviour OK or INFORMATIONAL.
func (r Result) Passed() bool {
	return (r.Behavior == OK || r.Behavior == Informational) &&
		(r.BehaviorClose == OK || r.BehaviorClose == Informational)
}

// behaviorClose judges the closing behaviour as the original does.
func (p *peer) behaviorClose() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.expectedClose.closedByMe != p.closedByMe:
		return Failed
	case p.expectedClose.requireClean && !(p.sentClose && p.gotClose):
		return Unclean
	case p.remoteCode >= 0 && !slices.ContainsFunc(p.expectedClose.codes, func(c frame.CloseCode) bool { return int(c) == p.remoteCode }):
		return WrongCode
	case p.isClient && p.droppedByMe:
		return FailedByClient
	}
	return OK
}

// judge runs after the connection has ended.
func (p *peer) verdict(c *Case, id string, elapsed time.Duration) Result {
	p.mu.Lock()
	for _, t := range p.timers {
		t.Stop()
	}
	behavior := Failed
	result := "actual events differ from any expected"
	if p.behavior != "" {
		behavior, result = p.behavior, p.result
	} else {
		for _, e := range p.expected {
			if equalEvents(p.received, e.events) {
				behavior, result = e.name, "actual events match at least one expected"
				break
			}
		}
	}
	p.behavior = behavior
	p.result = result
	p.mu.Unlock()
	closeBehavior := p.behaviorClose()
	if c.judge != nil {
		c.judge(p)
	}
	if c.judge != nil && p.behavior == Informational {
		closeBehavior = Informational
	}
	if p.behavior == Unimplemented && closeBehavior != OK {
		closeBehavior = OK // nothing was tested
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return Result{
		ID: id, Description: c.Description, Behavior: p.behavior, BehaviorClose: closeBehavior,
		Result: p.result, RemoteCloseCode: p.remoteCode, Received: p.received,
		Duration: float64(elapsed.Microseconds()) / 1000,
	}
}

// RunServer runs the cases against the WebSocket server at url (an echo
// server), each case on a new connection, and returns the results.
func RunServer(ctx context.Context, url string, cases []Case) []Result {
	var results []Result
	for i := range cases {
		results = append(results, runServerCase(ctx, url, &cases[i]))
	}
	return results
}

func runServerCase(ctx context.Context, rawURL string, c *Case) Result {
	start := time.Now()
	d := &handshake.Dialer{NoProxy: true}
	if c.Deflate != nil {
		for _, o := range c.Deflate.Offers {
			exts, _ := handshake.ParseExtensions(nil, "permessage-deflate; "+o)
			d.Extensions = append(d.Extensions, exts...)
		}
	}
	nc, br, n, err := d.Dial(ctx, rawURL)
	if err != nil {
		return Result{ID: c.ID, Description: c.Description, Behavior: Failed, BehaviorClose: Failed, Result: "handshake: " + err.Error(), RemoteCloseCode: -1}
	}
	p := newPeer(nc, br, true)
	for _, e := range n.Extensions {
		if e.Name != "permessage-deflate" {
			continue
		}
		p.deflate = true
		for _, prm := range e.Params {
			switch prm.Name {
			case "client_no_context_takeover":
				p.sendNoCtx = true
			case "server_no_context_takeover":
				p.recvNoCtx = true
			case "client_max_window_bits":
				p.sendBits, _ = strconv.Atoi(prm.Value)
			}
		}
	}
	return p.play(c, start)
}

func (p *peer) play(c *Case, start time.Time) Result {
	go p.readLoop()
	c.run(p)
	select {
	case <-p.done:
	case <-time.After(10 * time.Minute):
		p.drop()
		<-p.done
	}
	return p.verdict(c, c.ID, time.Since(start))
}

// FuzzingServer plays the cases against clients, the way the original's
// fuzzingserver does: a client asks /getCaseCount, runs case N at
// /runCase?case=N&agent=A, and the results are collected per agent.
type FuzzingServer struct {
	Cases   []Case
	Results chan Result // each finished case's result
}

// ServeHTTP answers the fuzzingserver endpoints.
func (s *FuzzingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/getCaseCount":
		nc, br, _, err := s.accept(w, r, nil)
		if err != nil {
			return
		}
		p := newPeer(nc, br, false)
		p.sendMessage([]byte(strconv.Itoa(len(s.Cases))), false)
		p.sendClose(1000, nil)
		go p.readLoop()
		<-p.done
	case "/runCase":
		n, err := strconv.Atoi(r.URL.Query().Get("case"))
		if err != nil || n < 1 || n > len(s.Cases) {
			http.Error(w, "no such case", http.StatusNotFound)
			return
		}
		c := &s.Cases[n-1]
		start := time.Now()
		nc, br, dp, err := s.accept(w, r, c.Deflate)
		if err != nil {
			return
		}
		p := newPeer(nc, br, false)
		if dp != nil {
			p.deflate = true
			p.sendNoCtx = dp.noCtx
			p.sendBits = dp.bits
		}
		s.Results <- p.play(c, start)
	default:
		http.NotFound(w, r)
	}
}

type negotiated struct {
	noCtx bool
	bits  int
}

// accept performs a server handshake by hand, answering a deflate offer
// with dp's Accept.
func (s *FuzzingServer) accept(w http.ResponseWriter, r *http.Request, dp *DeflateParams) (net.Conn, *bufio.Reader, *negotiated, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Header.Get("Sec-WebSocket-Version") != "13" || key == "" {
		http.Error(w, "not a websocket handshake", http.StatusBadRequest)
		return nil, nil, nil, errors.New("bad handshake")
	}
	var answer string
	var neg *negotiated
	if dp != nil {
		var offers []map[string]string
		for _, v := range r.Header.Values("Sec-WebSocket-Extensions") {
			exts, err := handshake.ParseExtensions(nil, v)
			if err != nil {
				continue
			}
			for _, e := range exts {
				if e.Name != "permessage-deflate" {
					continue
				}
				m := map[string]string{}
				for _, prm := range e.Params {
					m[prm.Name] = prm.Value
				}
				offers = append(offers, m)
			}
		}
		if a, ok := dp.Accept(offers); ok {
			answer = "permessage-deflate"
			if a != "" {
				answer += "; " + a
			}
			neg = &negotiated{}
			for _, prm := range strings.Split(a, "; ") {
				name, val, _ := strings.Cut(prm, "=")
				switch name {
				case "server_no_context_takeover":
					neg.noCtx = true
				case "server_max_window_bits":
					neg.bits, _ = strconv.Atoi(val)
				}
			}
		}
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, nil, err
	}
	h := sha1.Sum([]byte(key + handshake.GUID))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n"
	if answer != "" {
		resp += "Sec-WebSocket-Extensions: " + answer + "\r\n"
	}
	nc.Write([]byte(resp + "\r\n"))
	return nc, brw.Reader, neg, nil
}

// Summary counts results by verdict.
func Summary(results []Result) string {
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Behavior+"/"+r.BehaviorClose]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, counts[k])
	}
	return b.String()
}
