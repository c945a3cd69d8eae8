package suite

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/duplexgo/duplex/frame"
)

func addCloseCases(add func(id, desc string, run func(p *peer)) *Case) {
	suppressed := func(p *peer, e expect) {
		p.setExpect(e)
		p.mu.Lock()
		p.suppressClose = true
		p.mu.Unlock()
	}
	add("7.1.1", "Send a message followed by a close frame.", func(p *peer) {
		suppressed(p, echoed(msgText("Hello World!")))
		p.sendFrame(frame.OpText, []byte("Hello World!"), fin())
		p.sendClose(frame.CloseNormal, nil)
		p.killAfter(2 * time.Second)
	})
	add("7.1.2", "Send two close frames.", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, nil)
		p.sendFrame(frame.OpClose, []byte{0x03, 0xe8}, fin())
		p.killAfter(2 * time.Second)
	})
	add("7.1.3", "Send a ping after close message.", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, nil)
		p.sendFrame(frame.OpPing, nil, fin())
		p.killAfter(2 * time.Second)
	})
	add("7.1.4", "Send text message after sending a close frame.", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, nil)
		p.sendFrame(frame.OpText, []byte("Hello World!"), fin())
		p.killAfter(2 * time.Second)
	})
	add("7.1.5", "Send message fragment1 followed by close then fragment.", func(p *peer) {
		suppressed(p, echoed())
		p.sendFrame(frame.OpText, []byte("fragment1"), frameOpts{})
		p.sendClose(frame.CloseNormal, nil)
		p.sendFrame(frame.OpContinuation, []byte("fragment2"), fin())
		p.killAfter(2 * time.Second)
	})
	c := add("7.1.6", "Send 256K message followed by close then a ping.", func(p *peer) {
		e := echoed(msgText("Hello World!"))
		e.nonStrict = none
		suppressed(p, e)
		p.sendFrame(frame.OpText, []byte("BAsd7&jh23"), frameOpts{fin: true, length: 256 << 10})
		p.sendFrame(frame.OpText, []byte("Hello World!"), fin())
		p.sendClose(frame.CloseNormal, nil)
		p.sendFrame(frame.OpPing, nil, fin())
		p.killAfter(2 * time.Second)
	})
	// The outcome depends on the implementation's processing model: the
	// original reports it as informational.
	c.judge = func(p *peer) { p.behavior = Informational }

	add("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason).", func(p *peer) {
		suppressed(p, echoed())
		p.sendRawClose(nil)
		p.killAfter(2 * time.Second)
	})
	add("7.3.2", "Send a close frame with payload length 1.", func(p *peer) {
		suppressed(p, expect{ok: none, closedByMe: true, codes: protoErr})
		p.sendRawClose([]byte("a"))
		p.killAfter(2 * time.Second)
	})
	add("7.3.3", "Send a close frame with payload length 2 (regular close with a code).", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, nil)
		p.killAfter(2 * time.Second)
	})
	add("7.3.4", "Send a close frame with close code and close reason.", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, []byte("Ok, closing the connection."))
		p.killAfter(2 * time.Second)
	})
	add("7.3.5", "Send a close frame with close code and close reason of maximum length (123).", func(p *peer) {
		suppressed(p, echoed())
		p.sendClose(frame.CloseNormal, bytes.Repeat([]byte("*"), 123))
		p.killAfter(2 * time.Second)
	})
	add("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets.", func(p *peer) {
		suppressed(p, expect{ok: none, closedByMe: true, codes: protoErr})
		p.sendClose(frame.CloseNormal, bytes.Repeat([]byte("*"), 124))
		p.killAfter(2 * time.Second)
	})
	add("7.5.1", "Send a close frame with invalid UTF8 payload.", func(p *peer) {
		suppressed(p, expect{ok: none, closedByMe: true, codes: []frame.CloseCode{frame.CloseProtocolError, frame.CloseInvalidPayload}})
		p.sendClose(frame.CloseNormal, []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"))
		p.killAfter(2 * time.Second)
	})
	wrongCodeFails := func(p *peer) {
		if p.behaviorClose() == WrongCode {
			p.behavior = Failed
		}
	}
	for i, code := range []frame.CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		code := code
		c := add(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d.", code), func(p *peer) {
			suppressed(p, expect{ok: none, closedByMe: true, codes: []frame.CloseCode{frame.CloseNormal, code}, requireClean: true})
			p.sendClose(code, nil)
			p.killAfter(2 * time.Second)
		})
		c.judge = wrongCodeFails
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		code := code
		c := add(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d.", code), func(p *peer) {
			suppressed(p, expect{ok: none, closedByMe: true, codes: protoErr})
			p.sendRawClose([]byte{byte(code >> 8), byte(code)})
			p.killAfter(2 * time.Second)
		})
		c.judge = wrongCodeFails
	}
	for i, code := range []int{5000, 65535} {
		code := code
		c := add(fmt.Sprintf("7.13.%d", i+1), fmt.Sprintf("Send close with close code %d.", code), func(p *peer) {
			suppressed(p, expect{ok: none, closedByMe: true, codes: []frame.CloseCode{frame.CloseNormal, frame.CloseCode(code), frame.CloseProtocolError}})
			p.sendRawClose([]byte{byte(code >> 8), byte(code)})
			p.killAfter(2 * time.Second)
		})
		// The RFC leaves these undefined: informational in the original.
		c.judge = func(p *peer) { p.behavior = Informational }
	}
}

// addLimitCases adds the 9.x limits and performance cases: large
// messages, many fragments, chopped writes and many round trips. Each
// passes when every echo matches within its time.
func addLimitCases(cs *[]Case, s Scale) {
	add := func(id, desc string, run func(p *peer)) {
		*cs = append(*cs, Case{ID: id, Description: desc, run: run, judge: func(p *peer) {}})
	}
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	scaled := func(n int) int { return max(n/s.SizeDiv, 1) }
	// echoCount sends count messages one after the other and passes if
	// every echo is identical.
	echoCount := func(p *peer, payload []byte, bin bool, count int, send func()) {
		p.mu.Lock()
		p.behavior = Failed
		p.result = "did not finish in time"
		p.suppressClose = true
		p.expectedClose = closeExpectation{closedByMe: true, codes: normal, requireClean: true}
		got := 0
		want := msgText(string(payload))
		if bin {
			want = msgBinary(payload)
		}
		p.onMessage = func(e Event) {
			if e != want {
				p.mu.Lock()
				p.behavior, p.result = Failed, "echo differs"
				p.mu.Unlock()
				p.sendClose(frame.CloseNormal, nil)
				return
			}
			got++
			if got == count {
				p.mu.Lock()
				p.behavior, p.result = OK, "all echoes received"
				p.mu.Unlock()
				p.sendClose(frame.CloseNormal, nil)
				return
			}
			send()
		}
		p.mu.Unlock()
		send()
		p.killAfter(100 * time.Second)
	}
	for g, bin := range []bool{false, true} {
		for i, n := range sizes {
			n, bin := scaled(n), bin
			add(fmt.Sprintf("9.%d.%d", g+1, i+1), fmt.Sprintf("Send %s message message with payload of length %d.", kind(bin), n), func(p *peer) {
				payload := payloadOf(n, bin)
				echoCount(p, payload, bin, 1, func() { p.sendMessage(payload, bin) })
			})
		}
	}
	fragSizes := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for g, bin := range []bool{false, true} {
		for i, f := range fragSizes {
			n, f, bin := scaled(4<<20), scaled(f), bin
			add(fmt.Sprintf("9.%d.%d", g+3, i+1), fmt.Sprintf("Send fragmented %s message message with message payload of length %d and fragment length %d.", kind(bin), n, f), func(p *peer) {
				payload := payloadOf(n, bin)
				echoCount(p, payload, bin, 1, func() { p.autoFrag = f; p.sendMessage(payload, bin) })
			})
		}
	}
	chops := []int{64, 128, 256, 512, 1024, 2048}
	for g, bin := range []bool{false, true} {
		for i, c := range chops {
			n, c, bin := scaled(1<<20), c, bin
			add(fmt.Sprintf("9.%d.%d", g+5, i+1), fmt.Sprintf("Send %s message message with payload of length %d, sent in chops of %d octets.", kind(bin), n, c), func(p *peer) {
				payload := payloadOf(n, bin)
				op := frame.OpText
				if bin {
					op = frame.OpBinary
				}
				echoCount(p, payload, bin, 1, func() { p.sendFrame(op, payload, frameOpts{fin: true, chop: c}) })
			})
		}
	}
	rtSizes := []int{0, 16, 64, 256, 1024, 4096}
	for g, bin := range []bool{false, true} {
		for i, n := range rtSizes {
			n, bin := n, bin
			count := max(1000/s.CountDiv, 1)
			add(fmt.Sprintf("9.%d.%d", g+7, i+1), fmt.Sprintf("Send %d %s messages of payload size %d to measure implementation/network RTT (round trip time) / latency.", count, kind(bin), n), func(p *peer) {
				payload := payloadOf(n, bin)
				echoCount(p, payload, bin, count, func() { p.sendMessage(payload, bin) })
			})
		}
	}
}

func kind(bin bool) string {
	if bin {
		return "binary"
	}
	return "text"
}

func payloadOf(n int, bin bool) []byte {
	if bin {
		return bytes.Repeat([]byte{0xfe}, n)
	}
	return []byte(strings.Repeat("*", n))
}
