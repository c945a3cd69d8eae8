package suite

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duplexgo/duplex/frame"
)

// Case is one conformance case.
type Case struct {
	ID          string
	Description string
	// Deflate, when set, makes the case negotiate permessage-deflate with
	// these parameters (cases 12 and 13).
	Deflate *DeflateParams
	run     func(p *peer)
	// judge, when set, decides the behaviour itself after the connection
	// ends (informational and performance cases).
	judge func(p *peer)
}

// DeflateParams are the permessage-deflate parameters of a case: what the
// suite offers when it is the client (Offers, each a parameter string such
// as "client_max_window_bits") and how it answers when it is the server.
type DeflateParams struct {
	Offers []string
	// Accept picks the answer from the client's offers (parameter maps)
	// and returns the answer's parameters, or ok=false to decline.
	Accept func(offers []map[string]string) (answer string, ok bool)
}

// Scale shrinks the heavy cases (9, 12, 13) so that the suite fits in a CI
// budget: message sizes are divided by SizeDiv and message counts by
// CountDiv. Scale{1, 1} is the original suite.
type Scale struct {
	SizeDiv, CountDiv int
}

// Full is the scale of the original testsuite.
var Full = Scale{1, 1}

type expect struct {
	ok, nonStrict []Event
	closedByMe    bool
	codes         []frame.CloseCode
	requireClean  bool
}

func (p *peer) setExpect(e expect) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected = []expectation{{OK, e.ok}}
	if e.nonStrict != nil {
		p.expected = append(p.expected, expectation{NonStrict, e.nonStrict})
	}
	p.expectedClose = closeExpectation{e.closedByMe, e.codes, e.requireClean}
}

func msgText(s string) Event   { return Event{Kind: "message", Payload: s} }
func msgBinary(b []byte) Event { return Event{Kind: "message", Payload: string(b), Binary: true} }
func pong(s string) Event      { return Event{Kind: "pong", Payload: s} }

var (
	none       = []Event{}
	normal     = []frame.CloseCode{frame.CloseNormal}
	protoErr   = []frame.CloseCode{frame.CloseProtocolError}
	badPayload = []frame.CloseCode{frame.CloseInvalidPayload}
)

// echoed expects the echo of the events and a clean close started by the
// suite.
func echoed(events ...Event) expect {
	return expect{ok: events, closedByMe: true, codes: normal, requireClean: true}
}

// failsWith expects the peer to fail the connection with code after the
// events (usually none).
func failsWith(codes []frame.CloseCode, events ...Event) expect {
	if events == nil {
		events = none
	}
	return expect{ok: events, closedByMe: false, codes: codes, requireClean: false}
}

// Cases returns the suite's cases in order, at scale s.
func Cases(s Scale) []Case {
	if s.SizeDiv < 1 {
		s.SizeDiv = 1
	}
	if s.CountDiv < 1 {
		s.CountDiv = 1
	}
	var cs []Case
	add := func(id, desc string, run func(p *peer)) *Case {
		cs = append(cs, Case{ID: id, Description: desc, run: run})
		return &cs[len(cs)-1]
	}

	// 1 Framing: text and binary messages at every length boundary.
	lengths := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range lengths {
		n := n
		add(fmt.Sprintf("1.1.%d", i+1), fmt.Sprintf("Send text message with payload of length %d.", n), func(p *peer) {
			payload := strings.Repeat("*", n)
			p.setExpect(echoed(msgText(payload)))
			p.sendFrame(frame.OpText, []byte(payload), fin())
			p.killAfter(10 * time.Second)
		})
	}
	add("1.1.8", "Send text message message with payload of length 65536, sent in chops of 997 octets.", func(p *peer) {
		payload := strings.Repeat("*", 65536)
		p.setExpect(echoed(msgText(payload)))
		p.sendFrame(frame.OpText, []byte(payload), frameOpts{fin: true, chop: 997, sync: true})
		p.killAfter(10 * time.Second)
	})
	for i, n := range lengths {
		n := n
		add(fmt.Sprintf("1.2.%d", i+1), fmt.Sprintf("Send binary message with payload of length %d.", n), func(p *peer) {
			payload := bytes.Repeat([]byte{0xfe}, n)
			p.setExpect(echoed(msgBinary(payload)))
			p.sendFrame(frame.OpBinary, payload, fin())
			p.killAfter(10 * time.Second)
		})
	}
	add("1.2.8", "Send binary message message with payload of length 65536, sent in chops of 997 octets.", func(p *peer) {
		payload := bytes.Repeat([]byte{0xfe}, 65536)
		p.setExpect(echoed(msgBinary(payload)))
		p.sendFrame(frame.OpBinary, payload, frameOpts{fin: true, chop: 997, sync: true})
		p.killAfter(10 * time.Second)
	})

	// 2 Pings and pongs.
	pingCase := func(id, desc string, payload []byte, o frameOpts) {
		add(id, desc, func(p *peer) {
			p.setExpect(echoed(pong(string(payload))))
			p.sendFrame(frame.OpPing, payload, o)
			p.killAfter(2 * time.Second)
		})
	}
	pingCase("2.1", "Send ping without payload.", nil, fin())
	pingCase("2.2", "Send ping with small text payload.", []byte("Hello, world!"), fin())
	pingCase("2.3", "Send ping with small binary (non UTF-8) payload.", []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}, fin())
	pingCase("2.4", "Send ping with binary payload of 125 octets.", bytes.Repeat([]byte{0xfe}, 125), fin())
	add("2.5", "Send ping with binary payload of 126 octets.", func(p *peer) {
		p.setExpect(failsWith(protoErr))
		p.sendFrame(frame.OpPing, bytes.Repeat([]byte{0xfe}, 126), fin())
		p.killAfter(2 * time.Second)
	})
	pingCase("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.", bytes.Repeat([]byte{0xfe}, 125), frameOpts{fin: true, chop: 1, sync: true})
	add("2.7", "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.", func(p *peer) {
		p.setExpect(echoed())
		p.sendFrame(frame.OpPong, nil, fin())
		p.closeAfter(time.Second, frame.CloseNormal)
		p.killAfter(3 * time.Second)
	})
	add("2.8", "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.", func(p *peer) {
		p.setExpect(echoed())
		p.sendFrame(frame.OpPong, []byte("unsolicited pong payload"), fin())
		p.closeAfter(time.Second, frame.CloseNormal)
		p.killAfter(3 * time.Second)
	})
	add("2.9", "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.", func(p *peer) {
		p.setExpect(echoed(pong("ping payload")))
		p.sendFrame(frame.OpPong, []byte("unsolicited pong payload"), fin())
		p.sendFrame(frame.OpPing, []byte("ping payload"), fin())
		p.killAfter(2 * time.Second)
	})
	tenPings := func(id, desc string, o frameOpts) {
		add(id, desc, func(p *peer) {
			var events []Event
			for i := 0; i < 10; i++ {
				events = append(events, pong(fmt.Sprintf("payload-%d", i)))
			}
			p.setExpect(echoed(events...))
			for i := 0; i < 10; i++ {
				p.sendFrame(frame.OpPing, []byte(fmt.Sprintf("payload-%d", i)), o)
			}
			p.killAfter(3 * time.Second)
		})
	}
	tenPings("2.10", "Send 10 Pings with payload.", fin())
	tenPings("2.11", "Send 10 Pings with payload. Send out octets in octet-wise chops.", frameOpts{fin: true, chop: 1, sync: true})

	// 3 Reserved bits.
	rsvCase := func(id, desc string, rsv frame.RSV, sync, withMessage bool, op frame.Opcode, payload []byte) {
		add(id, desc, func(p *peer) {
			o := frameOpts{fin: true, sync: sync}
			if !withMessage {
				p.setExpect(failsWith(protoErr))
				o.rsv = rsv
				p.sendFrame(op, payload, o)
			} else {
				e := failsWith(protoErr, msgText("Hello, world!"))
				e.nonStrict = none
				p.setExpect(e)
				p.sendFrame(frame.OpText, []byte("Hello, world!"), o)
				bad := o
				bad.rsv = rsv
				p.sendFrame(op, payload, bad)
				p.sendFrame(frame.OpPing, nil, o)
			}
			p.killAfter(2 * time.Second)
		})
	}
	// Autobahn numbers RSV as a 3-bit value, RSV1 the highest bit.
	hello := []byte("Hello, world!")
	rsvCase("3.1", "Send small text message with RSV = 1.", frame.RSV3, false, false, frame.OpText, hello)
	rsvCase("3.2", "Send small text message, then send again with RSV = 2, then send Ping.", frame.RSV2, false, true, frame.OpText, hello)
	rsvCase("3.3", "Send small text message, then send again with RSV = 3, then send Ping. Octets are sent in frame-wise chops.", frame.RSV2|frame.RSV3, true, true, frame.OpText, hello)
	rsvCase("3.4", "Send small text message, then send again with RSV = 4, then send Ping. Octets are sent in octet-wise chops.", frame.RSV1, true, true, frame.OpText, hello)
	rsvCase("3.5", "Send small binary message with RSV = 5.", frame.RSV1|frame.RSV3, false, false, frame.OpBinary, []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff})
	rsvCase("3.6", "Send Ping with RSV = 6.", frame.RSV1|frame.RSV2, false, false, frame.OpPing, hello)
	rsvCase("3.7", "Send Close with RSV = 7.", frame.RSV1|frame.RSV2|frame.RSV3, false, false, frame.OpClose, nil)

	// 4 Reserved opcodes.
	for i, op := range []frame.Opcode{3, 4, 5, 6, 7, 11, 12, 13, 14, 15} {
		op := op
		group, k := 1, i+1
		if op > 8 {
			group, k = 2, i-4
		}
		var payload []byte
		if k%2 == 0 || k == 5 {
			payload = []byte("reserved opcode payload")
		}
		withMessage := k >= 3
		add(fmt.Sprintf("4.%d.%d", group, k), fmt.Sprintf("Send frame with reserved opcode = %d.", op), func(p *peer) {
			if withMessage {
				e := failsWith(protoErr, msgText("Hello, world!"))
				e.nonStrict = none
				p.setExpect(e)
				p.sendFrame(frame.OpText, []byte("Hello, world!"), frameOpts{fin: true, sync: true})
				p.sendFrame(op, payload, frameOpts{fin: true, sync: true})
				p.sendFrame(frame.OpPing, nil, frameOpts{fin: true, sync: true})
			} else {
				p.setExpect(failsWith(protoErr))
				p.sendFrame(op, payload, fin())
			}
			p.killAfter(2 * time.Second)
		})
	}

	addFragmentationCases(add)
	addUTF8Cases(add)
	addCloseCases(add)
	addLimitCases(&cs, s)
	add("10.1.1", "Send text message with payload of length 65536 auto-fragmented with fragment size 1300.", func(p *peer) {
		payload := strings.Repeat("*", 65536)
		p.setExpect(echoed(msgText(payload)))
		p.autoFrag = 1300
		p.sendMessage([]byte(payload), false)
		p.killAfter(10 * time.Second)
	})
	addCompressionCases(&cs, s)
	return cs
}

func addFragmentationCases(add func(id, desc string, run func(p *peer)) *Case) {
	twoFrags := func(id, desc string, op frame.Opcode, o frameOpts) {
		add(id, desc, func(p *peer) {
			o := o // each run mutates its own copy: cases may run in parallel
			p.setExpect(failsWith(protoErr))
			o.fin = false
			p.sendFrame(op, []byte("fragment1"), o)
			o.fin = true
			p.sendFrame(frame.OpContinuation, []byte("fragment2"), o)
			p.killAfter(2 * time.Second)
		})
	}
	twoFrags("5.1", "Send Ping fragmented into 2 fragments.", frame.OpPing, frameOpts{})
	twoFrags("5.2", "Send Pong fragmented into 2 fragments.", frame.OpPong, frameOpts{})
	textFrags := func(id, desc string, o frameOpts, ping bool) {
		add(id, desc, func(p *peer) {
			o := o // each run mutates its own copy: cases may run in parallel
			if ping {
				p.setExpect(echoed(pong("ping payload"), msgText("fragment1fragment2")))
			} else {
				p.setExpect(echoed(msgText("fragment1fragment2")))
			}
			o.fin = false
			p.sendFrame(frame.OpText, []byte("fragment1"), o)
			if ping {
				po := o
				po.fin = true
				p.sendFrame(frame.OpPing, []byte("ping payload"), po)
			}
			o.fin = true
			p.sendFrame(frame.OpContinuation, []byte("fragment2"), o)
			p.killAfter(2 * time.Second)
		})
	}
	textFrags("5.3", "Send text Message fragmented into 2 fragments.", frameOpts{}, false)
	textFrags("5.4", "Same as Case 5.3, but send all frames with SYNC = True.", frameOpts{sync: true}, false)
	textFrags("5.5", "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.", frameOpts{chop: 1, sync: true}, false)
	textFrags("5.6", "Send text Message fragmented into 2 fragments, one ping with payload in-between.", frameOpts{}, true)
	textFrags("5.7", "Same as Case 5.6, but send all frames with SYNC = True.", frameOpts{sync: true}, true)
	textFrags("5.8", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in octet-wise chops.", frameOpts{chop: 1, sync: true}, true)
	noStart := func(id, desc string, firstFin bool, o frameOpts) {
		add(id, desc, func(p *peer) {
			o := o // each run mutates its own copy: cases may run in parallel
			p.setExpect(failsWith(protoErr))
			o.fin = firstFin
			p.sendFrame(frame.OpContinuation, []byte("non-continuation payload"), o)
			o.fin = true
			p.sendFrame(frame.OpText, []byte("Hello, world!"), o)
			p.killAfter(2 * time.Second)
		})
	}
	noStart("5.9", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue.", true, frameOpts{})
	noStart("5.10", "Same as 5.9, but send all frames with SYNC = True.", true, frameOpts{sync: true})
	noStart("5.11", "Same as 5.9, but send all frames with SYNC = True and octet-wise chops.", true, frameOpts{chop: 1, sync: true})
	noStart("5.12", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue.", false, frameOpts{})
	noStart("5.13", "Same as 5.12, but send all frames with SYNC = True.", false, frameOpts{sync: true})
	noStart("5.14", "Same as 5.12, but send all frames with SYNC = True and octet-wise chops.", false, frameOpts{chop: 1, sync: true})
	add("5.15", "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message.", func(p *peer) {
		e := failsWith(protoErr, msgText("fragment1fragment2"))
		e.nonStrict = none
		p.setExpect(e)
		p.sendFrame(frame.OpText, []byte("fragment1"), frameOpts{})
		p.sendFrame(frame.OpContinuation, []byte("fragment2"), fin())
		p.sendFrame(frame.OpContinuation, []byte("fragment3"), frameOpts{})
		p.sendFrame(frame.OpText, []byte("fragment4"), fin())
		p.killAfter(2 * time.Second)
	})
	repeated := func(id, desc string, firstFin bool) {
		add(id, desc, func(p *peer) {
			p.setExpect(failsWith(protoErr))
			for i := 0; i < 2; i++ {
				p.sendFrame(frame.OpContinuation, []byte("fragment1"), frameOpts{fin: firstFin})
				p.sendFrame(frame.OpText, []byte("fragment2"), frameOpts{})
				p.sendFrame(frame.OpContinuation, []byte("fragment3"), fin())
			}
			p.killAfter(2 * time.Second)
		})
	}
	repeated("5.16", "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), then text Message fragmented into 2 fragments.", false)
	repeated("5.17", "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), then text Message fragmented into 2 fragments.", true)
	add("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text.", func(p *peer) {
		p.setExpect(failsWith(protoErr))
		p.sendFrame(frame.OpText, []byte("fragment1"), frameOpts{})
		p.sendFrame(frame.OpText, []byte("fragment2"), fin())
		p.killAfter(2 * time.Second)
	})
	withPings := func(id, desc string, sync bool) {
		add(id, desc, func(p *peer) {
			p.setExpect(echoed(pong("pongme 1!"), pong("pongme 2!"), msgText("fragment1fragment2fragment3fragment4fragment5")))
			o := frameOpts{sync: sync}
			p.sendFrame(frame.OpText, []byte("fragment1"), o)
			p.sendFrame(frame.OpContinuation, []byte("fragment2"), o)
			p.sendFrame(frame.OpPing, []byte("pongme 1!"), frameOpts{fin: true, sync: sync})
			p.later(time.Second, func() {
				p.sendFrame(frame.OpContinuation, []byte("fragment3"), o)
				p.sendFrame(frame.OpContinuation, []byte("fragment4"), o)
				p.sendFrame(frame.OpPing, []byte("pongme 2!"), frameOpts{fin: true, sync: sync})
				p.sendFrame(frame.OpContinuation, []byte("fragment5"), frameOpts{fin: true, sync: sync})
			})
			p.killAfter(5 * time.Second)
		})
	}
	withPings("5.19", "A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping and then the final text fragment.", false)
	withPings("5.20", "Same as 5.19, but send all frames with SYNC = True.", true)
}

func addUTF8Cases(add func(id, desc string, run func(p *peer)) *Case) {
	add("6.1.1", "Send text message of length 0.", func(p *peer) {
		p.setExpect(echoed(msgText("")))
		p.sendFrame(frame.OpText, nil, fin())
		p.killAfter(2 * time.Second)
	})
	add("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", func(p *peer) {
		p.setExpect(echoed(msgText("")))
		p.sendFrame(frame.OpText, nil, frameOpts{})
		p.sendFrame(frame.OpContinuation, nil, frameOpts{})
		p.sendFrame(frame.OpContinuation, nil, fin())
		p.killAfter(2 * time.Second)
	})
	add("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", func(p *peer) {
		p.setExpect(echoed(msgText("middle frame payload")))
		p.sendFrame(frame.OpText, nil, frameOpts{})
		p.sendFrame(frame.OpContinuation, []byte("middle frame payload"), frameOpts{})
		p.sendFrame(frame.OpContinuation, nil, fin())
		p.killAfter(2 * time.Second)
	})
	hello := "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	add("6.2.1", "Send a valid UTF-8 text message in one fragment.", func(p *peer) {
		p.setExpect(echoed(msgText(hello)))
		p.sendFrame(frame.OpText, []byte(hello), fin())
		p.killAfter(2 * time.Second)
	})
	add("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.", func(p *peer) {
		p.setExpect(echoed(msgText(hello)))
		p.sendFrame(frame.OpText, []byte(hello[:7]), frameOpts{})
		p.sendFrame(frame.OpContinuation, []byte(hello[7:]), fin())
		p.killAfter(2 * time.Second)
	})
	oneOctet := func(id, desc, s string) {
		add(id, desc, func(p *peer) {
			p.setExpect(echoed(msgText(s)))
			p.sendTextOctetwise(s)
			p.killAfter(2 * time.Second)
		})
	}
	oneOctet("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", hello)
	oneOctet("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", kosme)
	invalid := kosme + "\xed\xa0\x80" + "edited"
	add("6.3.1", "Send invalid UTF-8 text message unfragmented.", func(p *peer) {
		p.setExpect(failsWith(badPayload))
		p.sendFrame(frame.OpText, []byte(invalid), fin())
		p.killAfter(2 * time.Second)
	})
	add("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet.", func(p *peer) {
		p.setExpect(failsWith(badPayload))
		p.sendTextOctetwise(invalid)
		p.killAfter(2 * time.Second)
	})
	failFast := func(id, desc string, parts [3]string, chops bool) {
		add(id, desc, func(p *peer) {
			e := failsWith(badPayload, Event{Kind: "timeout", Payload: "A"})
			e.nonStrict = []Event{{Kind: "timeout", Payload: "A"}, {Kind: "timeout", Payload: "B"}}
			p.setExpect(e)
			whole := []byte(parts[0] + parts[1] + parts[2])
			if chops {
				// One frame, its payload written in three pieces.
				h := frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(whole)), Masked: p.isClient}
				key := [4]byte{0x11, 0x22, 0x33, 0x44}
				if p.isClient {
					h.Key = key
				}
				b := frame.AppendHeader(nil, h)
				start := len(b)
				b = append(b, whole...)
				if p.isClient {
					maskBytes(b[start:], key)
				}
				n1, n2 := start+len(parts[0]), start+len(parts[0])+len(parts[1])
				p.writeRaw(b[:n1])
				p.later(time.Second, func() {
					p.record(Event{Kind: "timeout", Payload: "A"})
					p.writeRaw(b[n1:n2])
					p.later(time.Second, func() {
						p.record(Event{Kind: "timeout", Payload: "B"})
						p.writeRaw(b[n2:])
						p.killAfter(time.Second)
					})
				})
			} else {
				p.sendFrame(frame.OpText, []byte(parts[0]), frameOpts{})
				p.later(time.Second, func() {
					p.record(Event{Kind: "timeout", Payload: "A"})
					p.sendFrame(frame.OpContinuation, []byte(parts[1]), frameOpts{})
					p.later(time.Second, func() {
						p.record(Event{Kind: "timeout", Payload: "B"})
						p.sendFrame(frame.OpContinuation, []byte(parts[2]), fin())
						p.killAfter(time.Second)
					})
				})
			}
			p.killAfter(6 * time.Second)
		})
	}
	p1 := [3]string{kosme, "\xf4\x90\x80\x80", "edited"}
	p2 := [3]string{kosme + "\xf4", "\x90", "\x80\x80edited"}
	failFast("6.4.1", "Send invalid UTF-8 text message in 3 fragments (frames); the 2nd makes the sequence invalid.", p1, false)
	failFast("6.4.2", "Same as 6.4.1, but the invalid byte is exactly the 2nd frame.", p2, false)
	failFast("6.4.3", "Same as 6.4.1, but the message is one frame sent in 3 chops.", p1, true)
	failFast("6.4.4", "Same as 6.4.2, but the message is one frame sent in 3 chops.", p2, true)

	for gi, g := range utf8Groups() {
		for j, s := range g.seqs {
			s := s
			valid := utf8.ValidString(s)
			desc := "Send a text message with payload which is not valid UTF-8 in one fragment."
			if valid {
				desc = "Send a text message with payload which is valid UTF-8 in one fragment."
			}
			add(fmt.Sprintf("6.%d.%d", gi+5, j+1), desc+" ("+g.name+")", func(p *peer) {
				if valid {
					p.setExpect(echoed(msgText(s)))
				} else {
					p.setExpect(failsWith(badPayload))
				}
				p.sendFrame(frame.OpText, []byte(s), fin())
				p.killAfter(2 * time.Second)
			})
		}
	}
}

// sendTextOctetwise sends s as a text message in frames of one byte each.
func (p *peer) sendTextOctetwise(s string) {
	for i := 0; i < len(s); i++ {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpText
		}
		p.sendFrame(op, []byte{s[i]}, frameOpts{fin: i == len(s)-1})
	}
}

func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

func (p *peer) writeRaw(b []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.nc.Write(b)
}

type utf8Group struct {
	name string
	seqs []string
}

// utf8Groups are the groups of UTF-8 test sequences of cases 6.5 to 6.23,
// from Markus Kuhn's public UTF-8 decoder stress test, in the testsuite's
// order. Validity is decided by the standard (utf8.ValidString).
func utf8Groups() []utf8Group {
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	span := func(from, to byte, sep string) string {
		var b strings.Builder
		for c := int(from); c < int(to); c++ {
			b.WriteByte(byte(c))
			b.WriteString(sep)
		}
		return b.String()
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var nonChars []string
	nonChars = append(nonChars, "\xef\xbf\xbe", "\xef\xbf\xbf")
	for _, z1 := range []string{"\xf0", "\xf1", "\xf2", "\xf3", "\xf4"} {
		for _, z2 := range []string{"\x8f", "\x9f", "\xaf", "\xbf"} {
			if z1 == "\xf4" && z2 != "\x8f" {
				continue
			}
			for _, z3 := range []string{"\xbe", "\xbf"} {
				zz := z1 + z2 + "\xbf" + z3
				if zz != "\xf0\x8f\xbf\xbe" && zz != "\xf0\x8f\xbf\xbf" {
					nonChars = append(nonChars, zz)
				}
			}
		}
	}
	var lonely []string
	for _, r := range [][2]byte{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		lonely = append(lonely, span(r[0], r[1], " "))
	}
	return []utf8Group{
		{"Some valid UTF-8 sequences", []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{"All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes},
		{"First possible sequence of a certain length", []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"First possible sequence length 5/6 (invalid codepoints)", []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"Last possible sequence of a certain length", []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"Last possible sequence length 4/5/6 (invalid codepoints)", []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"Other boundary conditions", []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{"Unexpected continuation bytes", []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", span(0x80, 0xbf, "")}},
		{"Lonely start characters", lonely},
		{"Sequences with last continuation byte missing", missing},
		{"Concatenation of incomplete sequences", []string{strings.Join(missing, "")}},
		{"Impossible bytes", []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"Examples of an overlong ASCII character", []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"Maximum overlong sequences", []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"Overlong representation of the NUL character", []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"Single UTF-16 surrogates", []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"Paired UTF-16 surrogates", []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf", "\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"Non-character code points (valid UTF-8)", nonChars},
		{"Unicode specials (i.e. replacement char)", []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}
