package suite_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/duplexgo/duplex/autobahn/suite"
	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/internal/utf8check"
	"github.com/duplexgo/duplex/mask"
)

// flaw is a deliberate bug of brokenServer.
type flaw int

const (
	skipUTF8    flaw = iota // echoes text without checking UTF-8
	wrongClose              // answers every Close with 1000, whatever it held
	ignorePings             // never answers a ping
	acceptRSV               // accepts frames with RSV bits set
)

// brokenServer is a small, otherwise careful echo server with one flaw,
// built directly on package frame so that the flaw is the only difference.
func brokenServer(t *testing.T, f flaw) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serveBroken(nc, f)
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func serveBroken(nc net.Conn, f flaw) {
	defer nc.Close()
	br, _, _, err := (&handshake.Upgrader{}).UpgradeConn(nc, nil, false)
	if err != nil {
		return
	}
	send := func(op frame.Opcode, p []byte) {
		b := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: op, Length: int64(len(p))})
		nc.Write(append(b, p...))
	}
	failWith := func(code frame.CloseCode) {
		send(frame.OpClose, []byte{byte(code >> 8), byte(code)})
		nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		io.Copy(io.Discard, br)
	}
	allowed := frame.RSV(0)
	if f == acceptRSV {
		allowed = frame.RSV1 | frame.RSV2 | frame.RSV3
	}
	var msg []byte
	var msgOp frame.Opcode
	inMsg := false
	var hb [frame.MaxHeaderSize]byte
	var v utf8check.Validator
	for {
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		h, err := frame.ReadHeader(br, &hb)
		if err != nil {
			if fe, ok := err.(frame.Error); ok {
				failWith(fe.CloseCode())
			}
			return
		}
		if err := h.Validate(frame.RoleServer, allowed); err != nil {
			failWith(err.(frame.Error).CloseCode())
			return
		}
		if h.Opcode == frame.OpText {
			v.Reset()
		}
		text := h.Opcode == frame.OpText || h.Opcode == frame.OpContinuation && msgOp == frame.OpText
		// Read the payload as it arrives and check text at once, so the
		// server fails fast on invalid UTF-8 like a careful one.
		p := make([]byte, h.Length)
		for off := 0; off < len(p); {
			n, err := br.Read(p[off:])
			if n == 0 && err != nil {
				return
			}
			mask.XOR(p[off:off+n], h.Key, off)
			if text && f != skipUTF8 && !v.Write(p[off:off+n]) {
				failWith(frame.CloseInvalidPayload)
				return
			}
			off += n
		}
		switch h.Opcode {
		case frame.OpPing:
			if f != ignorePings {
				send(frame.OpPong, p)
			}
		case frame.OpPong:
		case frame.OpClose:
			if f == wrongClose {
				send(frame.OpClose, []byte{0x03, 0xe8})
				return
			}
			code, _, err := frame.ParseClose(p)
			if err != nil {
				failWith(frame.CloseProtocolError)
				return
			}
			if code == frame.CloseNoStatus {
				code = frame.CloseNormal
			}
			send(frame.OpClose, []byte{byte(code >> 8), byte(code)})
			return
		default:
			if h.Opcode == frame.OpContinuation && !inMsg || h.Opcode != frame.OpContinuation && inMsg {
				failWith(frame.CloseProtocolError)
				return
			}
			if h.Opcode != frame.OpContinuation {
				msg, msgOp = msg[:0], h.Opcode
			}
			msg = append(msg, p...)
			inMsg = !h.Fin
			if h.Fin {
				if msgOp == frame.OpText && f != skipUTF8 && !v.Complete() {
					failWith(frame.CloseInvalidPayload)
					return
				}
				send(msgOp, msg)
			}
		}
	}
}

// TestSuiteCanFail runs families 1 to 7 against servers with one flaw each
// and checks that the cases that fail are exactly in the family the flaw
// belongs to, and that some do.
func TestSuiteCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	t.Parallel()
	var cases []suite.Case
	for _, c := range suite.Cases(suite.Scale{SizeDiv: 16, CountDiv: 50}) {
		if c.ID[0] >= '1' && c.ID[0] <= '7' && c.ID[1] == '.' {
			cases = append(cases, c)
		}
	}
	// Against a server that echoes invalid text, every invalid 6.x case
	// runs into its 2 s kill timer: keep that run to the groups up to 6.9.
	utf8Cases := cases[:0:0]
	for _, c := range cases {
		if !strings.HasPrefix(c.ID, "6.") || c.ID < "6.1" || strings.Count(c.ID, ".") == 2 && c.ID[:strings.LastIndex(c.ID, ".")] <= "6.9" && len(c.ID[:strings.LastIndex(c.ID, ".")]) == 3 {
			utf8Cases = append(utf8Cases, c)
		}
	}
	for _, tc := range []struct {
		name     string
		f        flaw
		families []string // case id prefixes allowed to fail
		mustFail string   // one case that has to fail
	}{
		{"no UTF-8 validation", skipUTF8, []string{"6."}, "6.3.1"},
		{"wrong close answer", wrongClose, []string{"7."}, "7.9.1"},
		{"ignores pings", ignorePings, []string{"2.", "5."}, "2.1"},
		{"accepts RSV bits", acceptRSV, []string{"3."}, "3.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := cases
			if tc.f == skipUTF8 {
				run = utf8Cases
			}
			results := suite.RunServer(context.Background(), brokenServer(t, tc.f), run)
			failed := map[string]bool{}
			for _, r := range results {
				if r.Passed() {
					continue
				}
				failed[r.ID] = true
				ok := false
				for _, fam := range tc.families {
					ok = ok || strings.HasPrefix(r.ID, fam)
				}
				if !ok {
					t.Errorf("case %s failed (%s / %s), outside %v", r.ID, r.Behavior, r.BehaviorClose, tc.families)
				}
			}
			if !failed[tc.mustFail] {
				t.Errorf("case %s passed against a server that %s", tc.mustFail, tc.name)
			}
			t.Logf("%d of %d cases failed", len(failed), len(results))
		})
	}
}
