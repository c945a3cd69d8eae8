// Package suite is duplex's own WebSocket conformance suite. It plays the
// role of the Autobahn testsuite's fuzzing peers, written from the public
// descriptions of its cases: against a server (as fuzzingclient does) or
// against a client (as fuzzingserver does), with the same case ids, the
// same expected events and the same verdict rules (OK, NON-STRICT,
// INFORMATIONAL, UNIMPLEMENTED, FAILED; and for the closing behaviour OK,
// FAILED, UNCLEAN, WRONG CODE, FAILED BY CLIENT).
//
// The suite talks to the implementation under test through its own
// framing code (package frame for headers, compress/flate for
// permessage-deflate), not through package ws, so that a bug in ws cannot
// hide itself.
package suite

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/mask"
)

// Behaviours of a case, as in the Autobahn reports.
const (
	OK             = "OK"
	NonStrict      = "NON-STRICT"
	Informational  = "INFORMATIONAL"
	Unimplemented  = "UNIMPLEMENTED"
	Failed         = "FAILED"
	WrongCode      = "WRONG CODE"
	Unclean        = "UNCLEAN"
	FailedByClient = "FAILED BY CLIENT"
)

// Event is something the peer under test did: sent a message, a ping or a
// pong, or (recorded by the case itself) let a wait time out.
type Event struct {
	Kind    string // "message", "ping", "pong", "timeout"
	Payload string
	Binary  bool
}

type expectation struct {
	name   string
	events []Event
}

type closeExpectation struct {
	closedByMe   bool
	codes        []frame.CloseCode
	requireClean bool
}

// peer is the suite's end of one connection.
type peer struct {
	nc       net.Conn
	br       *bufio.Reader
	isClient bool // the suite is the client: it masks, and the server must close TCP first
	start    time.Time

	wmu sync.Mutex // serialises writes

	mu            sync.Mutex
	received      []Event
	expected      []expectation
	expectedClose closeExpectation
	suppressClose bool
	onMessage     func(Event) // replaces recording, for the performance cases
	behavior      string      // set by cases that judge themselves
	result        string
	sentClose     bool
	gotClose      bool
	closedByMe    bool
	remoteCode    int // -1: none received
	droppedByMe   bool
	done          chan struct{}
	timers        []*time.Timer

	// permessage-deflate, when negotiated
	deflate     bool
	sendNoCtx   bool
	recvNoCtx   bool
	sendBits    int
	fw          *flate.Writer
	fwBuf       bytes.Buffer
	inflateDict []byte
	autoFrag    int // split outgoing messages into frames of this size
}

func newPeer(nc net.Conn, br *bufio.Reader, isClient bool) *peer {
	return &peer{nc: nc, br: br, isClient: isClient, remoteCode: -1, done: make(chan struct{}), start: time.Now()}
}

// ---- sending ----

type frameOpts struct {
	fin     bool
	rsv     frame.RSV
	chop    int  // write the frame in pieces of this size
	sync    bool // pause briefly after each piece so they arrive apart
	length  int  // repeat payload to this length, when > len(payload)
	badMask bool
}

func (p *peer) sendFrame(op frame.Opcode, payload []byte, o frameOpts) {
	if o.length > len(payload) && len(payload) > 0 {
		payload = bytes.Repeat(payload, o.length/len(payload)+1)[:o.length]
	}
	h := frame.Header{Fin: o.fin, RSV: o.rsv, Opcode: op, Length: int64(len(payload)), Masked: p.isClient}
	if p.isClient {
		binary.LittleEndian.PutUint32(h.Key[:], rand.Uint32())
	}
	b := frame.AppendHeader(make([]byte, 0, frame.MaxHeaderSize+len(payload)), h)
	start := len(b)
	b = append(b, payload...)
	if p.isClient {
		mask.XOR(b[start:], h.Key, 0)
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if o.chop <= 0 {
		p.nc.Write(b)
		if o.sync {
			time.Sleep(10 * time.Millisecond)
		}
		return
	}
	for len(b) > 0 {
		k := min(o.chop, len(b))
		if _, err := p.nc.Write(b[:k]); err != nil {
			return
		}
		b = b[k:]
		if o.sync {
			time.Sleep(time.Millisecond)
		}
	}
}

func fin() frameOpts { return frameOpts{fin: true} }

// sendMessage sends a whole message, compressed when deflate is on, and
// fragmented at autoFrag when set.
func (p *peer) sendMessage(payload []byte, bin bool) {
	op := frame.OpText
	if bin {
		op = frame.OpBinary
	}
	var rsv frame.RSV
	if p.deflate {
		payload = p.compress(payload)
		rsv = frame.RSV1
	}
	if p.autoFrag <= 0 || len(payload) <= p.autoFrag {
		p.sendFrame(op, payload, frameOpts{fin: true, rsv: rsv})
		return
	}
	for first := true; len(payload) > 0; first = false {
		k := min(p.autoFrag, len(payload))
		fop := frame.OpContinuation
		r := frame.RSV(0)
		if first {
			fop, r = op, rsv
		}
		p.sendFrame(fop, payload[:k], frameOpts{fin: k == len(payload), rsv: r})
		payload = payload[k:]
	}
}

func (p *peer) compress(msg []byte) []byte {
	p.fwBuf.Reset()
	if p.fw == nil || p.sendNoCtx {
		level := flate.BestSpeed
		if p.sendBits != 0 && p.sendBits < 15 {
			level = flate.HuffmanOnly
		}
		p.fw, _ = flate.NewWriter(&p.fwBuf, level)
	}
	p.fw.Write(msg)
	p.fw.Flush()
	out := append([]byte(nil), p.fwBuf.Bytes()...)
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

// sendClose starts (or answers) the closing handshake.
func (p *peer) sendClose(code frame.CloseCode, reason []byte) {
	payload := []byte{byte(code >> 8), byte(code)}
	payload = append(payload, reason...)
	p.sendRawClose(payload)
}

func (p *peer) sendRawClose(payload []byte) {
	p.mu.Lock()
	if p.sentClose {
		p.mu.Unlock()
		return
	}
	p.sentClose = true
	if !p.gotClose {
		p.closedByMe = true
	}
	p.mu.Unlock()
	p.sendFrame(frame.OpClose, payload, fin())
}

// open reports whether neither side has started closing.
func (p *peer) open() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false
	default:
	}
	return !p.sentClose && !p.gotClose
}

// later runs fn after d if the connection is still open.
func (p *peer) later(d time.Duration, fn func()) {
	t := time.AfterFunc(d, func() {
		if p.open() {
			fn()
		}
	})
	p.mu.Lock()
	p.timers = append(p.timers, t)
	p.mu.Unlock()
}

// killAfter drops the TCP connection after d if it is still up.
func (p *peer) killAfter(d time.Duration) {
	t := time.AfterFunc(d, p.drop)
	p.mu.Lock()
	p.timers = append(p.timers, t)
	p.mu.Unlock()
}

// closeAfter starts the closing handshake after d if nothing else has.
func (p *peer) closeAfter(d time.Duration, code frame.CloseCode) {
	p.later(d, func() { p.sendClose(code, nil) })
}

func (p *peer) drop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.mu.Lock()
	p.droppedByMe = true
	p.mu.Unlock()
	p.nc.Close()
}

// record adds an event and, when every expectation is met, starts the
// closing handshake the case expects (Autobahn's finishWhenDone).
func (p *peer) record(e Event) {
	p.mu.Lock()
	if p.onMessage != nil && e.Kind == "message" {
		fn := p.onMessage
		p.mu.Unlock()
		fn(e)
		return
	}
	p.received = append(p.received, e)
	p.mu.Unlock()
	p.finishWhenDone()
}

func (p *peer) finishWhenDone() {
	p.mu.Lock()
	for _, exp := range p.expected {
		if !equalEvents(p.received, exp.events) {
			p.mu.Unlock()
			return
		}
	}
	closeNow := p.expectedClose.closedByMe && !p.suppressClose && len(p.expected) > 0
	code := frame.CloseNormal
	if len(p.expectedClose.codes) > 0 {
		code = p.expectedClose.codes[0]
	}
	p.mu.Unlock()
	if closeNow {
		p.sendClose(code, nil)
	}
}

func equalEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---- receiving ----

// readLoop reads frames from the peer under test until the connection
// ends. It answers pings, reassembles and inflates messages, and plays its
// part of the closing handshake.
func (p *peer) readLoop() {
	defer close(p.done)
	defer p.nc.Close()
	var msg []byte
	var msgOp frame.Opcode
	var compressed, inMsg bool
	var hb [frame.MaxHeaderSize]byte
	for {
		p.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
		h, err := frame.ReadHeader(p.br, &hb)
		if err != nil {
			return
		}
		if h.Length > 64<<20 {
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(p.br, payload); err != nil {
			return
		}
		if h.Masked {
			mask.XOR(payload, h.Key, 0)
		}
		switch h.Opcode {
		case frame.OpPing:
			p.record(Event{Kind: "ping", Payload: string(payload)})
			p.mu.Lock()
			closing := p.sentClose
			p.mu.Unlock()
			if !closing {
				p.sendFrame(frame.OpPong, payload, fin())
			}
		case frame.OpPong:
			p.record(Event{Kind: "pong", Payload: string(payload)})
		case frame.OpClose:
			p.mu.Lock()
			p.gotClose = true
			if len(payload) >= 2 {
				p.remoteCode = int(binary.BigEndian.Uint16(payload))
			}
			answered := p.sentClose
			p.mu.Unlock()
			if !answered {
				if len(payload) >= 2 {
					p.sendRawClose(payload[:2])
				} else {
					p.sendRawClose(nil)
				}
			}
			if !p.isClient {
				// The suite is the server: it closes TCP first.
				return
			}
			// The suite is the client: wait for the server to close.
			p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := p.br.ReadByte(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					p.drop()
				}
			} else {
				p.drop()
			}
			return
		case frame.OpText, frame.OpBinary, frame.OpContinuation:
			if h.Opcode != frame.OpContinuation {
				msg, msgOp, compressed, inMsg = msg[:0], h.Opcode, h.RSV&frame.RSV1 != 0, true
			} else if !inMsg {
				return
			}
			msg = append(msg, payload...)
			if h.Fin {
				inMsg = false
				data := msg
				if compressed {
					var ok bool
					if data, ok = p.inflate(msg); !ok {
						return
					}
				}
				p.record(Event{Kind: "message", Payload: string(data), Binary: msgOp == frame.OpBinary})
			}
		default:
			return
		}
	}
}

func (p *peer) inflate(data []byte) ([]byte, bool) {
	src := append(append([]byte(nil), data...), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff)
	var dict []byte
	if !p.recvNoCtx {
		dict = p.inflateDict
	}
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(src), dict))
	if err != nil {
		return nil, false
	}
	if !p.recvNoCtx {
		p.inflateDict = append(p.inflateDict, out...)
		if len(p.inflateDict) > 32<<10 {
			p.inflateDict = append([]byte(nil), p.inflateDict[len(p.inflateDict)-32<<10:]...)
		}
	}
	return out, true
}
