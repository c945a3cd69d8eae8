package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/internal/utf8check"
	"github.com/duplexgo/duplex/mask"
)

// Conn is a WebSocket connection. See the package documentation for what
// may run concurrently.
type Conn struct {
	nc          net.Conn
	client      bool
	receiver    frame.Role // the role whose masking rule incoming frames follow
	opts        Options
	subprotocol string
	deflate     *deflateState // nil unless permessage-deflate was negotiated

	// Read side: owned by the goroutine holding readMu.
	readMu     sync.Mutex
	rbuf       []byte // unread bytes are rbuf[rr:rw]; small[:] or *big
	small      [smallReadBuffer]byte
	big        *[]byte // pooled read buffer of a busy connection, or nil
	rr, rw     int
	hdr        frame.Header // the data frame being read
	remaining  int64        // its unread payload bytes
	maskPos    int          // key position of its next byte
	inMessage  bool         // a message was started and not read to its end
	fragmented bool         // the message's last frame had no FIN
	compressed bool         // the message has RSV1 (permessage-deflate)
	msgType    MessageType
	msgSize    int64 // payload bytes of the message so far (wire bytes)
	utf8       utf8check.Validator
	readErr    error // sticky
	closing    bool  // awaiting the peer's Close: violations no longer answered
	peerClosed bool  // a Close frame was received, valid or not
	reader     messageReader
	frameRd    frameReader
	ctrl       [frame.MaxControlPayload]byte
	lastRead   atomic.Int64 // unix nanoseconds of the last network read

	// Write side.
	msgBusy    atomic.Bool   // an outgoing message is being written
	msgWaiters atomic.Int32  // writers waiting for msgBusy
	msgFree    chan struct{} // wakes a waiting writer
	writeMu    sync.Mutex    // held for each frame written
	wbuf       *[]byte       // guarded by writeMu; pooled for the duration of a frame write
	writer     messageWriter // guarded by msgBusy
	closeSent  bool          // guarded by writeMu
	writeErr   error         // guarded by writeMu; sticky
	armedAt    int64         // guarded by writeMu; coarse clock when the write deadline was last moved
	userWDL    atomic.Bool   // a deadline set with SetWriteDeadline is in force

	// Write coalescing (see Options.WriteImmediately). A writer parks frames in
	// pend while inputBuffered says the reader has more to parse; the
	// reader clears inputBuffered before blocking on the network and then
	// flushes whatever was parked. Both flags are sequentially consistent
	// atomics, so either the writer sees the reader's clear and flushes,
	// or the reader sees the writer's frames and does.
	pend          *[]byte     // guarded by writeMu
	pendLen       int         // guarded by writeMu
	pending       atomic.Bool // pend holds frames
	inputBuffered atomic.Bool // the last read left unparsed input buffered
	flushTimer    *time.Timer // guarded by writeMu; bounds the wait to CoalesceDelay

	// Closing.
	closeRecv     chan struct{} // closed once the peer's Close frame was read
	closeRecvOnce sync.Once
	peerClose     atomic.Pointer[CloseError]
	socketOnce    sync.Once
	closed        chan struct{} // closed with the socket

	// Pings.
	pingMu    sync.Mutex
	pingSeq   uint64
	pingWait  map[uint64]chan struct{}
	keepalive *time.Timer
}

func newConn(nc net.Conn, client bool, buffered []byte, opts Options, subprotocol string) *Conn {
	c := &Conn{
		nc:          nc,
		client:      client,
		opts:        opts,
		subprotocol: subprotocol,
		msgFree:     make(chan struct{}, 1),
		closeRecv:   make(chan struct{}),
		closed:      make(chan struct{}),
	}
	c.receiver = frame.RoleServer
	if client {
		c.receiver = frame.RoleClient
	}
	c.rbuf = c.small[:]
	if len(buffered) > len(c.small) {
		if len(buffered) > c.opts.ReadBufferSize {
			// More was sent behind the handshake than a buffer holds:
			// keep it all in a buffer of its own.
			b := append([]byte(nil), buffered...)
			c.big = &b // not from a pool; putBuf ignores unknown sizes
			c.rbuf = b
			c.rw = len(b)
		} else {
			c.useBig()
			c.rw = copy(c.rbuf, buffered)
		}
	} else {
		c.rw = copy(c.rbuf, buffered)
	}
	c.reader.c = c
	c.frameRd.c = c
	c.writer.c = c
	if opts.WriteTimeout > 0 || opts.PingInterval > 0 {
		clockAcquire()
	}
	c.lastRead.Store(clock.now.Load())
	if opts.PingInterval > 0 {
		c.keepalive = time.AfterFunc(opts.PingInterval, c.keepaliveTick)
	}
	return c
}

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.deflate != nil }

// NetConn returns the underlying connection. Reading or writing it
// directly corrupts the WebSocket stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetReadDeadline sets the deadline of reads, as net.Conn does. A read
// that times out breaks the connection: later reads fail too.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of writes, replacing
// Options.WriteTimeout until it is cleared with the zero time.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.userWDL.Store(!t.IsZero())
	c.writeMu.Lock()
	c.armedAt = 0
	c.writeMu.Unlock()
	return c.nc.SetWriteDeadline(t)
}

// ---- reading ----

// fill makes at least n bytes (n <= len(rbuf)) readable in rbuf.
func (c *Conn) fill(n int) error {
	if c.rw-c.rr >= n {
		return nil
	}
	if c.rr > 0 && len(c.rbuf)-c.rr < n {
		c.rw = copy(c.rbuf, c.rbuf[c.rr:c.rw])
		c.rr = 0
	}
	for c.rw-c.rr < n {
		if c.rw == len(c.rbuf) {
			c.useBig() // only the inline buffer can be full here
		}
		free := len(c.rbuf) - c.rw
		if !c.opts.WriteImmediately {
			// About to wait for the peer: what was held back goes now.
			c.inputBuffered.Store(false)
			if c.pending.Load() {
				c.Flush()
			}
		}
		k, err := c.nc.Read(c.rbuf[c.rw:])
		c.rw += k
		if k > 0 && c.keepalive != nil {
			c.lastRead.Store(clock.now.Load())
		}
		if k == free {
			// The buffer filled up: more is likely waiting.
			if c.big == nil {
				c.useBig()
			} else if len(c.rbuf) < maxReadBuffer {
				c.growBig()
			}
		}
		if err != nil {
			if c.rw-c.rr >= n {
				return nil
			}
			return c.netReadError(err)
		}
	}
	return nil
}

// netReadError turns a network read error into the error reads return.
func (c *Conn) netReadError(err error) error {
	if ce := c.peerClose.Load(); ce != nil {
		return ce
	}
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return &CloseError{Code: frame.CloseAbnormal, Reason: err.Error()}
	}
	return err
}

// readPayload reads up to len(p) bytes of the current frame's payload into
// p, unmasked.
func (c *Conn) readPayload(p []byte) (int, error) {
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	var n int
	if buffered := c.rw - c.rr; buffered > 0 {
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	} else if len(p) >= len(c.rbuf) {
		// A large read goes straight into the caller's slice.
		k, err := c.nc.Read(p)
		if k > 0 && c.keepalive != nil {
			c.lastRead.Store(clock.now.Load())
		}
		if k == 0 && err != nil {
			return 0, c.netReadError(err)
		}
		n = k
	} else {
		c.rr, c.rw = 0, 0
		if err := c.fill(1); err != nil {
			return 0, err
		}
		n = copy(p, c.rbuf[c.rr:c.rw])
		c.rr += n
	}
	if c.hdr.Masked {
		c.maskPos = mask.XOR(p[:n], c.hdr.Key, c.maskPos)
	}
	c.remaining -= int64(n)
	return n, nil
}

// discardPayload skips the rest of the current frame.
func (c *Conn) discardPayload() error {
	for c.remaining > 0 {
		if c.rw == c.rr {
			c.rr, c.rw = 0, 0
			if err := c.fill(1); err != nil {
				return err
			}
		}
		n := c.rw - c.rr
		if int64(n) > c.remaining {
			n = int(c.remaining)
		}
		c.rr += n
		c.remaining -= int64(n)
	}
	return nil
}

// nextFrame reads frame headers, handling control frames as they come,
// until a data frame, whose header it stores. With discard set, data frames
// are skipped instead (while closing).
func (c *Conn) nextFrame(discard bool) error {
	for {
		if err := c.fill(frame.MinHeaderSize); err != nil {
			return err
		}
		h, n, err := frame.Parse(c.rbuf[c.rr:c.rw])
		if err == frame.ErrShortHeader {
			if err := c.fill(n); err != nil {
				return err
			}
			h, n, err = frame.Parse(c.rbuf[c.rr:c.rw])
		}
		if err != nil {
			return c.fail(err)
		}
		c.rr += n
		// Set the payload position first, so that a failure below can
		// skip this frame's payload while awaiting the peer's Close.
		c.hdr = h
		c.remaining = h.Length
		var allowed frame.RSV
		if c.deflate != nil {
			allowed = frame.RSV1
		}
		if err := h.Validate(c.receiver, allowed); err != nil {
			if h.Opcode == frame.OpClose {
				c.peerClosed = true // invalid, but a Close all the same
			}
			return c.fail(err)
		}
		if h.Opcode.IsControl() {
			c.remaining = 0
			if err := c.handleControl(&h); err != nil {
				return err
			}
			continue
		}
		if h.Opcode == frame.OpContinuation {
			if !c.fragmented {
				return c.fail(frame.ErrUnexpectedContinuation)
			}
			if h.RSV&frame.RSV1 != 0 {
				// RFC 7692 §6.1: RSV1 is set on the first frame only.
				return c.fail(frame.ErrReservedBits)
			}
		} else {
			if c.fragmented {
				return c.fail(frame.ErrExpectedContinuation)
			}
			c.msgType = MessageType(h.Opcode)
			c.msgSize = 0
			c.compressed = h.RSV&frame.RSV1 != 0
			c.utf8.Reset()
		}
		if h.Length > c.opts.MaxFrameSize || h.Length > c.wireLimit()-c.msgSize {
			return c.fail(frame.ErrMessageTooBig)
		}
		c.hdr = h
		c.remaining = h.Length
		c.maskPos = 0
		c.fragmented = !h.Fin
		c.msgSize += h.Length
		if discard {
			if err := c.discardPayload(); err != nil {
				return err
			}
			continue
		}
		return nil
	}
}

// wireLimit bounds the payload bytes of the current message on the wire:
// the read limit, or for a compressed message a little more, since
// deflate can expand incompressible data slightly (RFC 1951 stored blocks
// cost 5 bytes per 64 KiB). The inflated size is limited separately.
func (c *Conn) wireLimit() int64 {
	if !c.compressed {
		return c.opts.ReadLimit
	}
	l := c.opts.ReadLimit
	if l > (1<<63-1)/2 {
		return 1<<63 - 1
	}
	return l + l/64 + 1024
}

// handleControl reads a control frame's payload and acts on it.
func (c *Conn) handleControl(h *frame.Header) error {
	p := c.ctrl[:h.Length]
	if err := c.fill(len(p)); err != nil {
		return err
	}
	copy(p, c.rbuf[c.rr:])
	c.rr += len(p)
	if h.Masked {
		mask.XOR(p, h.Key, 0)
	}
	switch h.Opcode {
	case frame.OpPing:
		if err := c.writeControl(frame.OpPong, p); err != nil && !errors.Is(err, ErrWriteAfterClose) {
			return err
		}
	case frame.OpPong:
		c.gotPong(p)
	case frame.OpClose:
		code, reason, err := frame.ParseClose(p)
		if err != nil {
			// The peer has closed, if badly: answer 1002 and do not wait
			// for another Close.
			c.peerClosed = true
			return c.fail(err)
		}
		ce := &CloseError{Code: code, Reason: string(reason)}
		c.peerClose.Store(ce)
		reply := code
		if reply == frame.CloseNoStatus {
			reply = frame.CloseNormal
		}
		c.writeClose(reply, "")
		c.closeRecvOnce.Do(func() { close(c.closeRecv) })
		c.finishClose()
		c.readErr = ce
		return ce
	}
	return nil
}

// fail handles a protocol violation found while reading: it sends a Close
// frame with the status for err, waits for the peer's Close (discarding
// what comes before it), closes the connection and returns err.
func (c *Conn) fail(err error) error {
	if c.closing {
		return err
	}
	code := frame.CloseProtocolError
	reason := ""
	var fe frame.Error
	if errors.As(err, &fe) {
		code = fe.CloseCode()
		reason = fe.Error()[len("frame: "):]
	}
	c.readErr = err
	c.writeClose(code, reason)
	c.awaitPeerClose()
	c.finishClose()
	return err
}

// awaitPeerClose reads, with the close timeout, until the peer's Close
// frame, discarding data. It runs on the reading goroutine after a Close
// was sent. Unread input left in the socket would make the kernel answer
// the peer with a reset, which can destroy the Close frame in flight.
func (c *Conn) awaitPeerClose() {
	if c.peerClose.Load() != nil || c.peerClosed || c.closing {
		return
	}
	c.closing = true
	deadline := time.Now().Add(c.opts.CloseTimeout)
	c.nc.SetReadDeadline(deadline)
	if c.remaining > 0 {
		// Failed inside a frame: the peer may never send the rest of it
		// (it stops sending once it sees our Close), so the frame
		// boundary behind which its Close would come is unknowable.
		// Drain until the peer goes quiet instead.
		c.drainRaw(deadline)
		return
	}
	for {
		err := c.nextFrame(true)
		if err == nil {
			continue
		}
		var ce *CloseError
		if !errors.As(err, &ce) {
			// The stream no longer parses as frames.
			c.drainRaw(deadline)
		}
		return
	}
}

// drainRaw reads and drops whatever the peer still sends until it stops
// for a moment, closes, or the deadline passes, so that closing the socket
// finds no unread input that would turn into a reset.
func (c *Conn) drainRaw(deadline time.Time) {
	const quiet = 100 * time.Millisecond
	c.rr, c.rw = 0, 0
	for {
		d := time.Now().Add(quiet)
		if d.After(deadline) {
			d = deadline
		}
		c.nc.SetReadDeadline(d)
		if _, err := c.nc.Read(c.rbuf); err != nil {
			return
		}
	}
}

// finishClose closes the socket once the closing handshake is over: a
// server at once (RFC 6455 §7.1.1), a client after waiting briefly for the
// server to do so, so that the TIME_WAIT state stays on the server.
func (c *Conn) finishClose() {
	if c.client {
		c.nc.SetReadDeadline(time.Now().Add(c.opts.CloseTimeout))
		var b [64]byte
		for {
			if _, err := c.nc.Read(b[:]); err != nil {
				break
			}
		}
	}
	c.closeSocket()
}

func (c *Conn) closeSocket() error {
	var err error
	c.socketOnce.Do(func() {
		close(c.closed)
		if c.keepalive != nil {
			c.keepalive.Stop()
		}
		if c.opts.WriteTimeout > 0 || c.opts.PingInterval > 0 {
			clockRelease()
		}
		err = c.nc.Close()
		c.releaseDeflate()
	})
	return err
}

// watch makes ctx's cancellation interrupt blocking network I/O in the
// direction given by set. It returns a function to call when the I/O is
// over, which reports the context's error if it fired.
func (c *Conn) watch(ctx context.Context, read bool) func() error {
	if ctx == nil || ctx.Done() == nil {
		return nil
	}
	set := c.nc.SetWriteDeadline
	if read {
		set = c.nc.SetReadDeadline
	}
	if ctx.Err() != nil {
		set(time.Unix(1, 0))
		return func() error {
			set(time.Time{})
			return ctx.Err()
		}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		set(time.Unix(1, 0))
		close(fired)
	})
	return func() error {
		if stop() {
			return nil
		}
		// The context fired: wait until its deadline is in place, then
		// lift it, in case the operation finished before it bit (the
		// caller keeps a successful result and the next call must not
		// find a deadline in the past).
		<-fired
		set(time.Time{})
		return ctx.Err()
	}
}

// beginRead takes the read side and fails fast on a broken connection.
func (c *Conn) beginRead() error {
	c.readMu.Lock()
	if c.readErr != nil {
		err := c.readErr
		c.readMu.Unlock()
		return err
	}
	return nil
}

// endRead releases the read side, turning errors caused by ctx into its
// error. Any I/O error breaks the read side for good.
func (c *Conn) endRead(done func() error, err error) error {
	if buffered := c.rw > c.rr; !c.opts.WriteImmediately && c.inputBuffered.Load() != buffered {
		c.inputBuffered.Store(buffered) // stored only on change: a store is a full barrier
	}
	if done != nil {
		if cerr := done(); cerr != nil && err != nil {
			err = cerr
		}
	}
	if err != nil && c.readErr == nil {
		c.readErr = err
		var ce *CloseError
		if !errors.As(err, &ce) {
			// A timeout or cancellation leaves the stream mid-frame.
			c.closeSocket()
		}
	}
	c.readMu.Unlock()
	return err
}

// NextReader waits for the next data message and returns its type and a
// reader of its payload, valid until the next call to NextReader or
// ReadMessage. A message not read to its end is discarded by the next
// call. ctx bounds the wait for the message's first frame and every later
// Read of the returned reader; a cancelled ctx breaks the connection.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.beginRead(); err != nil {
		return 0, nil, err
	}
	done := c.watch(ctx, true)
	err := c.startMessage()
	if err != nil {
		return 0, nil, c.endRead(done, err)
	}
	c.reader.ctx = ctx
	c.endRead(done, nil)
	var r io.Reader = &c.reader
	if c.compressed {
		r = c.inflateReader()
	}
	return c.msgType, r, nil
}

// startMessage skips what is left of the previous message and reads up to
// the first data frame of the next.
func (c *Conn) startMessage() error {
	if d := c.deflate; d != nil && d.inflating && !d.params.recvNoContext {
		// With context takeover the rest of the message must still be
		// inflated: the next message may refer back into it.
		var scratch [512]byte
		for {
			_, err := c.inflateStep(scratch[:])
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	for c.inMessage {
		if err := c.discardPayload(); err != nil {
			return err
		}
		if !c.fragmented {
			c.inMessage = false
			break
		}
		if err := c.nextFrame(false); err != nil {
			return err
		}
	}
	c.releaseBig() // between messages with nothing buffered: idle
	if err := c.nextFrame(false); err != nil {
		return err
	}
	c.inMessage = true
	return nil
}

// ReadMessage reads the next data message whole, appending its payload to
// buf (which may be nil; pass buf[:0] of a previous result to reuse it).
func (c *Conn) ReadMessage(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := c.beginRead(); err != nil {
		return 0, buf, err
	}
	done := c.watch(ctx, true)
	err := c.startMessage()
	if err == nil {
		if c.compressed {
			buf, err = c.readCompressed(buf)
		} else {
			buf, err = c.readWhole(buf)
		}
	}
	return c.msgType, buf, c.endRead(done, err)
}

// readWhole reads the rest of an uncompressed message into buf.
func (c *Conn) readWhole(buf []byte) ([]byte, error) {
	for {
		for c.remaining > 0 {
			// Grow with what arrives, not with what the header declares:
			// a peer announcing a 32 MiB frame and sending one byte must
			// not make us allocate 32 MiB.
			if len(buf) == cap(buf) {
				grow := int64(cap(buf))
				if grow < 4096 {
					grow = 4096
				}
				if grow > c.remaining {
					grow = c.remaining
				}
				buf = growBuf(buf, grow)
			}
			p := buf[len(buf):cap(buf)]
			if int64(len(p)) > c.remaining {
				p = p[:c.remaining]
			}
			n, err := c.readPayload(p)
			if err != nil {
				return buf, err
			}
			if c.msgType == Text && !c.utf8.Write(p[:n]) {
				return buf, c.fail(frame.ErrInvalidUTF8)
			}
			buf = buf[:len(buf)+n]
		}
		if !c.fragmented {
			c.inMessage = false
			if c.msgType == Text && !c.utf8.Complete() {
				return buf, c.fail(frame.ErrInvalidUTF8)
			}
			return buf, nil
		}
		if err := c.nextFrame(false); err != nil {
			return buf, err
		}
	}
}

func growBuf(buf []byte, more int64) []byte {
	need := int64(len(buf)) + more
	newCap := int64(cap(buf)) * 2
	if newCap < need {
		newCap = need
	}
	nb := make([]byte, len(buf), newCap)
	copy(nb, buf)
	return nb
}

// messageReader reads the payload of the current message.
type messageReader struct {
	c   *Conn
	ctx context.Context
}

// Read reads message payload. It returns io.EOF at the end of the message.
func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	if err := c.beginRead(); err != nil {
		return 0, err
	}
	if !c.inMessage {
		c.readMu.Unlock()
		return 0, io.EOF
	}
	done := c.watch(r.ctx, true)
	n, err := c.readMessagePart(p)
	if err == io.EOF {
		if done != nil {
			done()
		}
		c.readMu.Unlock()
		return n, io.EOF
	}
	return n, c.endRead(done, err)
}

// readMessagePart reads payload of the current (uncompressed view of the)
// message into p, crossing frame boundaries as needed.
func (c *Conn) readMessagePart(p []byte) (int, error) {
	for c.remaining == 0 {
		if !c.fragmented {
			c.inMessage = false
			if c.msgType == Text && !c.compressed && !c.utf8.Complete() {
				return 0, c.fail(frame.ErrInvalidUTF8)
			}
			return 0, io.EOF
		}
		if err := c.nextFrame(false); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.readPayload(p)
	if err != nil {
		return 0, err
	}
	if c.msgType == Text && !c.compressed && !c.utf8.Write(p[:n]) {
		return 0, c.fail(frame.ErrInvalidUTF8)
	}
	return n, nil
}

// ---- frames, for the frame-level API ----

// Frame describes a data frame returned by NextFrame.
type Frame struct {
	Opcode frame.Opcode // OpText, OpBinary or OpContinuation
	Fin    bool         // last frame of its message
	RSV    frame.RSV    // reserved bits (RSV1 marks a compressed message)
	Length int64        // payload length
}

// NextFrame returns the next data frame as it arrived, with a reader of
// its (unmasked) payload valid until the next read call. Control frames
// are handled as in NextReader; fragmentation rules are enforced, but the
// payload is neither decompressed nor checked for UTF-8. Do not mix
// NextFrame with NextReader inside one message.
func (c *Conn) NextFrame(ctx context.Context) (Frame, io.Reader, error) {
	if err := c.beginRead(); err != nil {
		return Frame{}, nil, err
	}
	done := c.watch(ctx, true)
	var err error
	if c.remaining > 0 {
		err = c.discardPayload()
	}
	if err == nil {
		err = c.nextFrame(false)
	}
	if err != nil {
		return Frame{}, nil, c.endRead(done, err)
	}
	c.inMessage = c.fragmented
	c.frameRd.ctx = ctx
	f := Frame{Opcode: c.hdr.Opcode, Fin: c.hdr.Fin, RSV: c.hdr.RSV, Length: c.hdr.Length}
	c.endRead(done, nil)
	return f, &c.frameRd, nil
}

type frameReader struct {
	c   *Conn
	ctx context.Context
}

func (r *frameReader) Read(p []byte) (int, error) {
	c := r.c
	if err := c.beginRead(); err != nil {
		return 0, err
	}
	if c.remaining == 0 {
		c.readMu.Unlock()
		return 0, io.EOF
	}
	done := c.watch(r.ctx, true)
	n, err := c.readPayload(p)
	return n, c.endRead(done, err)
}

// ---- writing ----

// armWriteDeadline moves the write deadline WriteTimeout ahead, at most
// every WriteTimeout/8 to keep timer updates off the hot path.
func (c *Conn) armWriteDeadlineLocked() {
	if c.opts.WriteTimeout < 0 || c.userWDL.Load() {
		return
	}
	now := clock.now.Load()
	if time.Duration(now-c.armedAt) < c.opts.WriteTimeout/8 {
		return
	}
	c.armedAt = now
	c.nc.SetWriteDeadline(time.Unix(0, now).Add(c.opts.WriteTimeout))
}

// writeFrameLocked writes one frame whose payload is p. The caller holds
// writeMu. Client frames are masked with a fresh key (RFC 6455 §5.3)
// without touching p.
func (c *Conn) writeFrameLocked(op frame.Opcode, fin bool, rsv frame.RSV, p []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	c.armWriteDeadlineLocked()
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(p))}
	if c.client {
		h.Masked = true
		binary.LittleEndian.PutUint32(h.Key[:], rand.Uint32())
	}
	if !c.opts.WriteImmediately && (c.pend != nil || c.inputBuffered.Load()) {
		if op != frame.OpClose && h.Size()+len(p) <= CoalesceBufferSize {
			return c.coalesceLocked(h, p)
		}
		if err := c.flushLocked(); err != nil { // keep the order of frames
			return err
		}
	}
	if c.wbuf == nil {
		c.wbuf = getBuf(frame.MaxHeaderSize + c.opts.WriteBufferSize)
	}
	defer c.releaseWbufLocked()
	buf := frame.AppendHeader((*c.wbuf)[:0], h)
	pos := 0
	for {
		k := cap(buf) - len(buf)
		if k > len(p) {
			k = len(p)
		}
		start := len(buf)
		buf = append(buf, p[:k]...)
		if c.client {
			pos = mask.XOR(buf[start:], h.Key, pos)
		}
		p = p[k:]
		if !c.client && len(p) > 0 {
			// Write the rest from the caller's slice: no copy.
			if err := c.writeAll(buf); err != nil {
				return err
			}
			return c.writeAll(p)
		}
		if err := c.writeAll(buf); err != nil {
			return err
		}
		if len(p) == 0 {
			return nil
		}
		buf = (*c.wbuf)[:0]
	}
}

// coalesceLocked parks a frame in the coalescing buffer, and writes the
// buffer at once unless the reader has input left to parse (its replies
// will join this one). The caller holds writeMu.
func (c *Conn) coalesceLocked(h frame.Header, p []byte) error {
	buf := c.pendBufLocked(h.Size() + len(p))
	if buf == nil {
		return c.writeErr
	}
	buf = frame.AppendHeader(buf, h)
	start := len(buf)
	buf = append(buf, p...)
	if c.client {
		mask.XOR(buf[start:], h.Key, 0)
	}
	return c.parkLocked(buf)
}

// pendBufLocked returns the coalescing buffer with room for size more
// bytes, flushing it first if needed; nil if that flush failed.
func (c *Conn) pendBufLocked(size int) []byte {
	if c.pend != nil && c.pendLen+size > len(*c.pend) {
		if c.flushLocked() != nil {
			return nil
		}
	}
	if c.pend == nil {
		c.pend = getBuf(CoalesceBufferSize)
	}
	return (*c.pend)[:c.pendLen]
}

// parkLocked records buf (the coalescing buffer grown by a frame) and
// writes it at once unless the reader has input left to parse (its
// replies will join this one).
func (c *Conn) parkLocked(buf []byte) error {
	c.pendLen = len(buf)
	first := !c.pending.Swap(true)
	if !c.inputBuffered.Load() {
		return c.flushLocked()
	}
	// The reader flushes before it waits for the network; the timer is
	// for a reader that does not come back soon.
	if first {
		if c.flushTimer == nil {
			c.flushTimer = time.AfterFunc(CoalesceDelay, func() { c.Flush() })
		} else {
			c.flushTimer.Reset(CoalesceDelay)
		}
	}
	return nil
}

// writeRawLocked writes an encoded frame (a PreparedMessage's), through
// the coalescing buffer when it is in use. The caller holds writeMu.
func (c *Conn) writeRawLocked(b []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	c.armWriteDeadlineLocked()
	if !c.opts.WriteImmediately && len(b) <= CoalesceBufferSize && (c.pend != nil || c.inputBuffered.Load()) {
		buf := c.pendBufLocked(len(b))
		if buf == nil {
			return c.writeErr
		}
		return c.parkLocked(append(buf, b...))
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	return c.writeAll(b)
}

// flushLocked writes the coalesced frames. The caller holds writeMu.
func (c *Conn) flushLocked() error {
	if c.pend == nil {
		return nil
	}
	var err error
	if c.pendLen > 0 {
		err = c.writeAll((*c.pend)[:c.pendLen])
	}
	putBuf(c.pend)
	c.pend, c.pendLen = nil, 0
	c.pending.Store(false)
	return err
}

// Flush writes the frames write coalescing is holding back, if any (see
// Options.WriteImmediately).
func (c *Conn) Flush() error {
	if !c.pending.Load() {
		return nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.writeErr != nil {
		return c.writeErr
	}
	return c.flushLocked()
}

// releaseWbufLocked returns the write buffer to its pool between writes.
func (c *Conn) releaseWbufLocked() {
	putBuf(c.wbuf)
	c.wbuf = nil
}

func (c *Conn) writeAll(b []byte) error {
	_, err := c.nc.Write(b)
	if err != nil {
		c.writeErr = err
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// A write cut off mid-frame leaves the stream unusable.
			go c.closeSocket()
		}
	}
	return err
}

// writeControl writes a control frame from any goroutine.
func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return ErrWriteAfterClose
	}
	return c.writeFrameLocked(op, true, 0, p)
}

// writeClose sends a Close frame with code and reason once; later calls do
// nothing.
func (c *Conn) writeClose(code frame.CloseCode, reason string) error {
	var payload [frame.MaxControlPayload]byte
	p, err := frame.AppendClose(payload[:0], code, reason)
	if err != nil {
		if err != frame.ErrCloseReasonTooLong {
			return err
		}
		p, _ = frame.AppendClose(payload[:0], code, "")
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	return c.writeFrameLocked(frame.OpClose, true, 0, p)
}

// acquireWriter takes the right to write a message, waiting for ctx. The
// uncontended case is one atomic operation.
func (c *Conn) acquireWriter(ctx context.Context) error {
	if c.msgBusy.CompareAndSwap(false, true) {
		return nil
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	c.msgWaiters.Add(1)
	defer c.msgWaiters.Add(-1)
	for {
		// Retry after announcing ourselves: a release that did not see
		// us yet has left msgBusy false.
		if c.msgBusy.CompareAndSwap(false, true) {
			return nil
		}
		select {
		case <-c.msgFree:
		case <-done:
			return ctx.Err()
		case <-c.closed:
			return ErrClosed
		}
	}
}

func (c *Conn) releaseWriter() {
	c.msgBusy.Store(false)
	if c.msgWaiters.Load() > 0 {
		select {
		case c.msgFree <- struct{}{}:
		default:
		}
	}
}

// WriteMessage sends p as one message of type typ. Text must be UTF-8.
// Concurrent calls are serialised; ctx bounds the wait for the connection
// and the write itself (cancelling it mid-write breaks the connection).
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	return c.writeMessage(ctx, typ, p, true)
}

// WriteUncompressed is WriteMessage without permessage-deflate for this
// message (already compressed data, or a message too small or too
// random to gain), even when compression was negotiated (RFC 7692 lets a
// sender choose per message).
func (c *Conn) WriteUncompressed(ctx context.Context, typ MessageType, p []byte) error {
	return c.writeMessage(ctx, typ, p, false)
}

func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte, mayCompress bool) error {
	if typ != Text && typ != Binary {
		return ErrMessageType
	}
	done, err := c.beginMessageWrite(ctx)
	if err != nil {
		return err
	}
	if mayCompress && c.deflate != nil && c.deflate.shouldCompress(len(p)) {
		err = c.writeCompressedLocked(typ, p)
	} else {
		err = c.writeFrameLocked(frame.Opcode(typ), true, 0, p)
	}
	return c.finishMessageWrite(done, err)
}

// beginMessageWrite starts one whole message's write: it waits for the
// connection's message-writer turn (bounded by ctx), takes the frame
// mutex, refuses after a Close was sent, and lets ctx interrupt the
// network write. On success the caller writes and calls
// finishMessageWrite.
func (c *Conn) beginMessageWrite(ctx context.Context) (done func() error, err error) {
	if err := c.acquireWriter(ctx); err != nil {
		return nil, err
	}
	c.writeMu.Lock()
	if c.closeSent {
		c.writeMu.Unlock()
		c.releaseWriter()
		return nil, ErrWriteAfterClose
	}
	return c.watch(ctx, false), nil
}

// finishMessageWrite ends what beginMessageWrite started.
func (c *Conn) finishMessageWrite(done func() error, err error) error {
	err = c.endWriteLocked(done, err)
	c.writeMu.Unlock()
	c.releaseWriter()
	return err
}

// endWriteLocked ends a write watched by ctx: an error caused by the
// context becomes its error, and the write deadline is re-armed on the
// next write (the watch may have moved it). The caller holds writeMu.
func (c *Conn) endWriteLocked(done func() error, err error) error {
	if done != nil {
		if cerr := done(); cerr != nil && err != nil {
			err = cerr
		}
		c.armedAt = 0
	}
	return err
}

// ---- closing ----

// Close performs the closing handshake with code and reason (at most 123
// bytes; longer reasons are dropped): it sends a Close frame, waits up to
// Options.CloseTimeout for the peer's, and closes the connection. A
// reading goroutine, if any, sees the peer's answer as a *CloseError.
// Close is safe to call from any goroutine, and more than once.
func (c *Conn) Close(code frame.CloseCode, reason string) error {
	if err := c.writeClose(code, reason); err != nil && !errors.Is(err, frame.ErrCloseCode) {
		c.closeSocket()
		return err
	} else if err != nil {
		return err
	}
	if c.readMu.TryLock() {
		if c.readErr == nil {
			c.awaitPeerClose()
			c.finishClose()
			c.readErr = ErrClosed
		}
		c.readMu.Unlock()
	} else {
		t := time.NewTimer(c.opts.CloseTimeout)
		select {
		case <-c.closeRecv:
		case <-c.closed:
		case <-t.C:
		}
		t.Stop()
	}
	return c.closeSocket()
}

// CloseNow closes the connection without a closing handshake.
func (c *Conn) CloseNow() error {
	c.writeMu.Lock()
	c.closeSent = true
	c.writeMu.Unlock()
	return c.closeSocket()
}

// ---- pings ----

// Ping sends a ping and waits for its pong, returning the round-trip time.
// A goroutine must be reading the connection for the pong to be seen.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	c.pingMu.Lock()
	c.pingSeq++
	seq := c.pingSeq
	ch := make(chan struct{})
	if c.pingWait == nil {
		c.pingWait = make(map[uint64]chan struct{})
	}
	c.pingWait[seq] = ch
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pingWait, seq)
		c.pingMu.Unlock()
	}()
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], seq)
	start := time.Now()
	if err := c.writeControl(frame.OpPing, p[:]); err != nil {
		return 0, err
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-ch:
		return time.Since(start), nil
	case <-done:
		return 0, ctx.Err()
	case <-c.closed:
		return 0, ErrClosed
	}
}

func (c *Conn) gotPong(p []byte) {
	if len(p) != 8 {
		return // unsolicited or not ours: ignored (RFC 6455 §5.5.3)
	}
	seq := binary.BigEndian.Uint64(p)
	c.pingMu.Lock()
	if ch, ok := c.pingWait[seq]; ok {
		close(ch)
		delete(c.pingWait, seq)
	}
	c.pingMu.Unlock()
}

// keepaliveTick runs every PingInterval: it closes a connection from
// which nothing was read for PingTimeout, and pings otherwise.
func (c *Conn) keepaliveTick() {
	select {
	case <-c.closed:
		return
	default:
	}
	idle := time.Duration(clock.now.Load() - c.lastRead.Load())
	if idle > c.opts.PingTimeout {
		c.CloseNow()
		return
	}
	var p [8]byte
	c.writeControl(frame.OpPing, p[:0])
	c.keepalive.Reset(c.opts.PingInterval)
}
