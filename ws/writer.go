package ws

import (
	"context"
	"io"

	"github.com/duplexgo/duplex/frame"
)

// messageWriter streams one outgoing message as a series of frames, each
// at most WriteBufferSize bytes of payload.
type messageWriter struct {
	c        *Conn
	ctx      context.Context
	typ      MessageType
	buf      []byte  // payload waiting to be sent; owned while msgBusy is held
	bufp     *[]byte // the pooled buffer behind buf
	started  bool    // a first frame was sent
	compress bool
	closed   bool
	err      error
}

// NextWriter starts a message of type typ and returns a writer for its
// payload; the message ends with the writer's Close. Until then other
// message writes wait (control frames do not). Payload is sent in frames
// of up to Options.WriteBufferSize bytes as it is written, so a message of
// any size needs bounded memory. ctx bounds the wait for the connection
// and every write.
//
// A Text message's payload is not checked for UTF-8 here (it may be
// written in arbitrary pieces); sending invalid text makes the peer close
// the connection with 1007.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, ErrMessageType
	}
	if err := c.acquireWriter(ctx); err != nil {
		return nil, err
	}
	w := &c.writer
	*w = messageWriter{c: c, ctx: ctx, typ: typ}
	if c.deflate == nil {
		w.bufp = getBuf(c.opts.WriteBufferSize)
		w.buf = (*w.bufp)[:0]
	}
	if c.deflate != nil {
		w.compress = true
		c.writeMu.Lock()
		c.deflate.beginCompress()
		c.writeMu.Unlock()
	}
	return w, nil
}

// Write adds p to the message, sending full frames as the buffer fills.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.compress {
		return w.writeCompressed(p)
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.flushFrame(false); err != nil {
				return n, err
			}
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		n += k
	}
	return n, nil
}

func (w *messageWriter) writeCompressed(p []byte) (int, error) {
	c := w.c
	d := c.deflate
	if _, err := d.fw.Write(p); err != nil {
		w.err = err
		return 0, err
	}
	for d.wout.Len() > c.opts.WriteBufferSize {
		chunk := d.wout.Next(c.opts.WriteBufferSize)
		if err := w.sendFrame(false, chunk); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flushFrame sends the buffered payload as one frame.
func (w *messageWriter) flushFrame(fin bool) error {
	err := w.sendFrame(fin, w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *messageWriter) sendFrame(fin bool, payload []byte) error {
	c := w.c
	op := frame.OpContinuation
	var rsv frame.RSV
	if !w.started {
		op = frame.Opcode(w.typ)
		if w.compress {
			rsv = frame.RSV1
		}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		w.err = ErrWriteAfterClose
		return w.err
	}
	done := c.watch(w.ctx, false)
	err := c.endWriteLocked(done, c.writeFrameLocked(op, fin, rsv, payload))
	w.started = true
	if err != nil {
		w.err = err
	}
	return err
}

// Close sends the last frame of the message and lets other writers go on.
func (w *messageWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.c.releaseWriter()
	defer func() {
		if w.bufp != nil {
			putBuf(w.bufp)
			w.bufp, w.buf = nil, nil
		}
	}()
	if w.err != nil {
		return w.err
	}
	if w.compress {
		c := w.c
		c.writeMu.Lock()
		out, err := c.deflate.endCompress()
		c.writeMu.Unlock()
		if err != nil {
			return err
		}
		return w.sendFrame(true, out)
	}
	return w.flushFrame(true)
}
