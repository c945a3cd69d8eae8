package handshake

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate",
		`x; a="b", y; c="\d"`,
		"a;;b", `a; b="`, strings.Repeat("a;", 100) + "=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		start := time.Now()
		exts, err := ParseExtensions(nil, v)
		if d := time.Since(start); d > time.Second+time.Duration(len(v))*10*time.Microsecond {
			t.Fatalf("parsing %d bytes took %v", len(v), d)
		}
		if err != nil {
			return
		}
		// What parses formats to something that parses to the same.
		again, err := ParseExtensions(nil, FormatExtensions(exts))
		if err != nil || FormatExtensions(again) != FormatExtensions(exts) {
			t.Fatalf("round trip of %q: %q, %v", v, FormatExtensions(again), err)
		}
		for _, e := range exts {
			if e.Name == "" {
				t.Fatalf("empty name from %q", v)
			}
		}
	})
}

// FuzzRequest feeds arbitrary request heads to the raw server checks.
func FuzzRequest(f *testing.F) {
	f.Add(goodRequest())
	f.Add(goodRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits", "Origin: http://server.example.com"))
	f.Add("GET / HTTP/1.1\r\n folded: x\r\n\r\n")
	f.Add("\r\n\r\nGET / HTTP/1.1\nHost: a\n\n")
	u := &Upgrader{Subprotocols: []string{"chat"}, NegotiateExtensions: func(o []Extension) ([]Extension, error) { return o[:1], nil }}
	f.Fuzz(func(t *testing.T, req string) {
		var h head
		if err := h.read(bufio.NewReader(strings.NewReader(req)), 4096, 50); err != nil {
			return
		}
		for _, fl := range h.fields {
			if len(fl.name) == 0 {
				t.Fatal("empty field name")
			}
		}
		method, _, major, minor, ok := parseRequestLine(h.start)
		if !ok {
			return
		}
		host, _ := h.get("Host")
		key, protos, offers, rej := u.check(method, major, minor, host, rawView{&h})
		if rej != nil {
			if rej.Status < 400 || rej.Err == nil {
				t.Fatalf("bad rejection %+v", rej)
			}
			return
		}
		if !validKey(key) {
			t.Fatalf("accepted key %q", key)
		}
		n, rej := u.negotiate(protos, offers)
		if rej == nil && n.Subprotocol != "" && n.Subprotocol != "chat" {
			t.Fatalf("subprotocol %q", n.Subprotocol)
		}
	})
}

// FuzzResponse feeds arbitrary response heads to the client's checks.
func FuzzResponse(f *testing.F) {
	key := goodKey
	f.Add("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n")
	f.Add("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!")
	d := &Dialer{Subprotocols: []string{"chat"}, Extensions: []Extension{{Name: "permessage-deflate"}}}
	f.Fuzz(func(t *testing.T, resp string) {
		br := bufio.NewReader(strings.NewReader(resp))
		var h head
		if err := h.read(br, 4096, 50); err != nil {
			return
		}
		n, err := d.checkResponse(&h, key, br)
		if err != nil {
			return
		}
		if n.Subprotocol != "" && n.Subprotocol != "chat" {
			t.Fatalf("accepted subprotocol %q", n.Subprotocol)
		}
		for _, e := range n.Extensions {
			if e.Name != "permessage-deflate" {
				t.Fatalf("accepted extension %q", e.Name)
			}
		}
	})
}
