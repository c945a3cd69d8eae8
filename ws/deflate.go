package ws

import (
	"bytes"
	"errors"
	"github.com/klauspost/compress/flate"
	"io"
	"strconv"
	"sync"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
)

// CompressionOptions configures permessage-deflate (RFC 7692).
//
// Memory: with context takeover a connection keeps its compressor (about
// 800 KiB at level 1, held from its first compressed write until it
// closes), its inflater (about 37 KiB) and a copy of the last 32 KiB it
// inflated. Without context takeover (NoContextTakeover, or when the peer
// asks for it) compressors come from a pool for the length of one message
// and the connection keeps only the inflater. Servers with many
// connections and compression on should weigh NoContextTakeover.
//
// Compression uses github.com/klauspost/compress/flate, a drop-in for
// compress/flate that measured 1.2-2x faster at compressing, 1.75x faster
// at inflating, a third smaller per compressor, and allocation-free on
// Reset (see bench/).
type CompressionOptions struct {
	// Level is the compress/flate level; 0 means flate.BestSpeed.
	Level int
	// MinSize is the smallest message compressed; smaller ones are sent
	// as they are (RFC 7692 lets a sender choose per message). 0 means 64.
	MinSize int
	// NoContextTakeover asks that neither side keeps its compression
	// window between messages (both *_no_context_takeover parameters).
	// It saves about 40 KiB per connection and direction, at a cost in
	// ratio.
	NoContextTakeover bool
}

const extDeflate = "permessage-deflate"

// deflateParams is a negotiated permessage-deflate configuration, seen
// from one end: "send" is what this end compresses, "recv" what it
// inflates. sendWindowBits is the largest LZ77 window the peer accepts
// from us (15 unless it asked for less).
type deflateParams struct {
	sendNoContext, recvNoContext bool
	sendWindowBits               int
}

// deflateState holds a connection's compression contexts.
type deflateState struct {
	params  deflateParams
	level   int
	minSize int

	fw   *flate.Writer // nil until the first compressed write, or pooled
	wout bytes.Buffer  // compressed output of one message

	fr     io.ReadCloser // inflater; nil until the first compressed read
	window []byte        // last 32 KiB inflated, for context takeover
	src    inflateSource
	infl   inflateReader
	// inflating is set while a message's inflation has not reached its
	// end (guarded by the read side).
	inflating bool
}

func newDeflateState(p deflateParams, o *CompressionOptions) *deflateState {
	d := &deflateState{params: p, level: o.Level, minSize: o.MinSize}
	if d.level == 0 {
		d.level = flate.BestSpeed
	}
	if p.sendWindowBits != 0 && p.sendWindowBits < 15 {
		// compress/flate always looks back up to 32 KiB. A peer that
		// asked for a smaller window gets Huffman-only blocks, which
		// refer back to nothing and so fit any window (RFC 7692 §7.1.2).
		d.level = flate.HuffmanOnly
		d.params.sendNoContext = true
	}
	if d.minSize == 0 {
		d.minSize = 64
	}
	return d
}

func (d *deflateState) shouldCompress(n int) bool { return n >= d.minSize }

// errBadParams makes an offer unusable.
var errBadParams = errors.New("ws: invalid permessage-deflate parameters")

// deflateOffer is the parsed parameter set of one permessage-deflate
// offer or answer (RFC 7692 §7.1).
type deflateOffer struct {
	serverNoContext, clientNoContext bool
	serverBits, clientBits           int  // 0 when absent
	clientBitsNoValue                bool // client_max_window_bits without a value
}

// parseDeflate reads the parameters of one permessage-deflate offer or
// answer. Unknown or duplicated parameters and invalid values make it
// invalid (RFC 7692 §7.1: a server declines such an offer, a client fails
// the connection on such an answer).
func parseDeflate(e handshake.Extension) (deflateOffer, error) {
	var o deflateOffer
	var seen [4]bool
	for _, p := range e.Params {
		var idx int
		switch p.Name {
		case "server_no_context_takeover":
			idx = 0
		case "client_no_context_takeover":
			idx = 1
		case "server_max_window_bits":
			idx = 2
		case "client_max_window_bits":
			idx = 3
		default:
			return o, errBadParams
		}
		if seen[idx] {
			return o, errBadParams
		}
		seen[idx] = true
		switch idx {
		case 0, 1:
			if p.HasValue {
				return o, errBadParams
			}
			if idx == 0 {
				o.serverNoContext = true
			} else {
				o.clientNoContext = true
			}
		case 2, 3:
			if !p.HasValue {
				if idx == 2 {
					return o, errBadParams // server_max_window_bits needs a value
				}
				o.clientBitsNoValue = true
				continue
			}
			n, err := strconv.Atoi(p.Value)
			if err != nil || n < 8 || n > 15 || p.Value[0] < '1' || p.Value[0] > '9' {
				return o, errBadParams
			}
			if idx == 2 {
				o.serverBits = n
			} else {
				o.clientBits = n
			}
		}
	}
	return o, nil
}

// negotiateDeflateServer accepts the first valid permessage-deflate offer
// (RFC 7692 §5, §7.1) and returns the answer for the response.
func negotiateDeflateServer(offers []handshake.Extension, o *CompressionOptions) (handshake.Extension, deflateParams, bool) {
	for _, e := range offers {
		if e.Name != extDeflate {
			continue
		}
		off, err := parseDeflate(e)
		if err != nil {
			continue
		}
		ans := handshake.Extension{Name: extDeflate}
		p := deflateParams{sendWindowBits: 15}
		if off.serverNoContext || o.NoContextTakeover {
			ans.Params = append(ans.Params, handshake.Param{Name: "server_no_context_takeover"})
			p.sendNoContext = true
		}
		if off.clientNoContext || o.NoContextTakeover {
			ans.Params = append(ans.Params, handshake.Param{Name: "client_no_context_takeover"})
			p.recvNoContext = true
		}
		if off.serverBits != 0 {
			// We must not use a larger window than the client asked for.
			ans.Params = append(ans.Params, handshake.Param{Name: "server_max_window_bits", Value: strconv.Itoa(off.serverBits), HasValue: true})
			p.sendWindowBits = off.serverBits
		}
		// client_max_window_bits in the offer only says the client could
		// limit its window; our inflater takes any window, so we do not
		// ask it to.
		return ans, p, true
	}
	return handshake.Extension{}, deflateParams{}, false
}

// clientDeflateOffers are the client's offers, in order of preference:
// context takeover first, then (for servers that only accept clients
// without it) a client_no_context_takeover offer. Both say the client can
// limit its window (client_max_window_bits).
func clientDeflateOffers(o *CompressionOptions) []handshake.Extension {
	bits := handshake.Param{Name: "client_max_window_bits"}
	noCtx := handshake.Param{Name: "client_no_context_takeover"}
	if o.NoContextTakeover {
		return []handshake.Extension{{Name: extDeflate, Params: []handshake.Param{
			{Name: "server_no_context_takeover"}, noCtx, bits}}}
	}
	return []handshake.Extension{
		{Name: extDeflate, Params: []handshake.Param{bits}},
		{Name: extDeflate, Params: []handshake.Param{noCtx, bits}},
	}
}

// acceptDeflateAnswer checks the server's answer against the client's
// offers (RFC 7692 §7.1): an invalid answer fails the connection.
func acceptDeflateAnswer(exts []handshake.Extension, o *CompressionOptions) (deflateParams, bool, error) {
	var found *handshake.Extension
	for i := range exts {
		if exts[i].Name == extDeflate {
			if found != nil {
				return deflateParams{}, false, errBadParams
			}
			found = &exts[i]
		}
	}
	if found == nil {
		return deflateParams{}, false, nil
	}
	ans, err := parseDeflate(*found)
	if err != nil || ans.clientBitsNoValue {
		return deflateParams{}, false, errBadParams
	}
	// Any server window up to 15 bits inflates with our 32 KiB window.
	p := deflateParams{
		sendNoContext:  ans.clientNoContext || o.NoContextTakeover,
		recvNoContext:  ans.serverNoContext,
		sendWindowBits: 15,
	}
	if ans.clientBits != 0 {
		p.sendWindowBits = ans.clientBits
	}
	return p, true, nil
}

// ---- writing ----

var flateWriterPools sync.Map // level -> *sync.Pool of *flate.Writer

func flateWriterPool(level int) *sync.Pool {
	if p, ok := flateWriterPools.Load(level); ok {
		return p.(*sync.Pool)
	}
	p, _ := flateWriterPools.LoadOrStore(level, &sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, level)
		return w
	}})
	return p.(*sync.Pool)
}

// compress deflates p into d.wout with the trailing 00 00 ff ff removed
// (RFC 7692 §7.2.1).
func (d *deflateState) compress(p []byte) ([]byte, error) {
	d.beginCompress()
	if _, err := d.fw.Write(p); err != nil {
		return nil, err
	}
	out, err := d.endCompress()
	return out, err
}

// beginCompress readies the compressor for a message: from the pool, or
// kept from the last message with context takeover. The caller holds
// writeMu.
func (d *deflateState) beginCompress() {
	d.wout.Reset()
	if d.fw == nil {
		d.fw = flateWriterPool(d.level).Get().(*flate.Writer)
		d.fw.Reset(&d.wout)
	} else if d.params.sendNoContext {
		d.fw.Reset(&d.wout)
	}
}

// endCompress flushes the message and returns its compressed bytes (in
// d.wout) without the 00 00 ff ff tail (RFC 7692 §7.2.1); without context
// takeover the compressor goes back to its pool. The caller holds writeMu.
func (d *deflateState) endCompress() ([]byte, error) {
	if err := d.fw.Flush(); err != nil {
		return nil, err
	}
	out := d.wout.Bytes()
	if n := len(out); n >= 4 && out[n-4] == 0 && out[n-3] == 0 && out[n-2] == 0xff && out[n-1] == 0xff {
		out = out[:n-4]
	}
	if d.params.sendNoContext {
		flateWriterPool(d.level).Put(d.fw)
		d.fw = nil
	}
	return out, nil
}

func (c *Conn) writeCompressedLocked(typ MessageType, p []byte) error {
	out, err := c.deflate.compress(p)
	if err != nil {
		return err
	}
	return c.writeFrameLocked(frame.Opcode(typ), true, frame.RSV1, out)
}

// ---- reading ----

// deflateTail ends a message's compressed data: the 00 00 ff ff the sender
// removed (RFC 7692 §7.2.2), then an empty final stored block so that the
// inflater reports io.EOF at the end of the message.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflateSource feeds a message's compressed payload, then deflateTail, to
// the inflater one byte at a time (it implements io.ByteReader, so
// compress/flate reads no further than it needs).
type inflateSource struct {
	c        *Conn
	buf      [512]byte
	r, w     int
	tail     int // bytes of deflateTail handed out; -1 while payload remains
	consumed bool
}

func (s *inflateSource) reset(c *Conn) {
	s.c, s.r, s.w, s.tail = c, 0, 0, -1
}

func (s *inflateSource) ReadByte() (byte, error) {
	if s.r < s.w {
		b := s.buf[s.r]
		s.r++
		return b, nil
	}
	if s.tail < 0 {
		n, err := s.c.readMessagePart(s.buf[:])
		if n > 0 {
			s.r, s.w = 1, n
			return s.buf[0], nil
		}
		if err != io.EOF {
			return 0, err
		}
		s.tail = 0
	}
	if s.tail < len(deflateTail) {
		b := deflateTail[s.tail]
		s.tail++
		return b, nil
	}
	return 0, io.EOF
}

func (s *inflateSource) Read(p []byte) (int, error) {
	for i := range p {
		b, err := s.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

// beginInflate prepares the inflater for the current message.
func (c *Conn) beginInflate() {
	d := c.deflate
	d.src.reset(c)
	var dict []byte
	if !d.params.recvNoContext {
		dict = d.window
	}
	if d.fr == nil {
		d.fr = flate.NewReader(&d.src)
		if dict != nil {
			d.fr.(flate.Resetter).Reset(&d.src, dict)
		}
	} else {
		d.fr.(flate.Resetter).Reset(&d.src, dict)
	}
	d.infl = inflateReader{c: c}
	d.inflating = true
}

// remember adds inflated bytes to the window kept for context takeover.
func (d *deflateState) remember(p []byte) {
	if d.params.recvNoContext {
		return
	}
	const windowSize = 32 << 10
	if len(p) >= windowSize {
		d.window = append(d.window[:0], p[len(p)-windowSize:]...)
		return
	}
	if len(d.window)+len(p) > windowSize {
		drop := len(d.window) + len(p) - windowSize
		d.window = d.window[:copy(d.window, d.window[drop:])]
	}
	d.window = append(d.window, p...)
}

// inflateStep reads inflated bytes of the current message into p,
// enforcing the read limit on the inflated size and UTF-8 for text.
func (c *Conn) inflateStep(p []byte) (int, error) {
	d := c.deflate
	if limit := c.opts.ReadLimit - d.infl.size; int64(len(p)) >= limit {
		if limit <= 0 {
			// Read one more byte to tell "exactly at the limit" from
			// "over it".
			var one [1]byte
			n, err := d.fr.Read(one[:])
			if n > 0 {
				return 0, c.fail(frame.ErrMessageTooBig)
			}
			if err == io.EOF {
				return 0, c.endInflate()
			}
			return 0, c.inflateError(err)
		}
		p = p[:limit]
	}
	n, err := d.fr.Read(p)
	d.infl.size += int64(n)
	d.remember(p[:n])
	if c.msgType == Text && !c.utf8.Write(p[:n]) {
		return 0, c.fail(frame.ErrInvalidUTF8)
	}
	if err == io.EOF {
		return n, c.endInflate()
	}
	if err != nil {
		return n, c.inflateError(err)
	}
	return n, nil
}

// endInflate finishes a compressed message: what follows the end of the
// deflate stream in the message is skipped, and text must be complete.
func (c *Conn) endInflate() error {
	c.deflate.infl.done = true
	c.deflate.inflating = false
	if c.inMessage {
		// A stream that ended (BFINAL) before the payload did: read the
		// rest of the message away.
		var scratch [256]byte
		for {
			_, err := c.readMessagePart(scratch[:])
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	if c.msgType == Text && !c.utf8.Complete() {
		return c.fail(frame.ErrInvalidUTF8)
	}
	return io.EOF
}

func (c *Conn) inflateError(err error) error {
	if c.readErr != nil {
		return c.readErr
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) || err == io.ErrUnexpectedEOF {
		return c.fail(frame.ErrBadCompression)
	}
	return err
}

// readCompressed inflates the current message into buf.
func (c *Conn) readCompressed(buf []byte) ([]byte, error) {
	c.beginInflate()
	for {
		if rest := c.opts.ReadLimit - c.deflate.infl.size; len(buf) == cap(buf) && rest > 0 {
			more := int64(cap(buf))
			if more < 512 {
				more = 512
			}
			if more > rest {
				more = rest
			}
			buf = growBuf(buf, more)
		}
		n, err := c.inflateStep(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// inflateReader is the io.Reader NextReader returns for a compressed
// message.
type inflateReader struct {
	c    *Conn
	size int64 // inflated bytes so far
	done bool
}

func (c *Conn) inflateReader() io.Reader {
	c.beginInflate()
	return &c.deflate.infl
}

func (r *inflateReader) Read(p []byte) (int, error) {
	c := r.c
	if r.done {
		return 0, io.EOF
	}
	if err := c.beginRead(); err != nil {
		return 0, err
	}
	done := c.watch(c.reader.ctx, true)
	n, err := c.inflateStep(p)
	if err == io.EOF {
		r.done = true
		if done != nil {
			done()
		}
		c.readMu.Unlock()
		return n, io.EOF
	}
	return n, c.endRead(done, err)
}

// releaseDeflate returns the connection's compressor to its pool when the
// connection closes. Inflaters are left to the garbage collector with the
// connection.
func (c *Conn) releaseDeflate() {
	d := c.deflate
	if d == nil {
		return
	}
	c.writeMu.Lock()
	if d.fw != nil {
		d.fw.Reset(io.Discard)
		flateWriterPool(d.level).Put(d.fw)
		d.fw = nil
	}
	c.writeMu.Unlock()
}
