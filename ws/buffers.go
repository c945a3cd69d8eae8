package ws

import "sync"

// smallReadBuffer is the inline read buffer an idle connection reads
// into: large enough for a header or a small message, so that an idle
// connection holds no pooled buffer, and a busy one upgrades to a pooled
// ReadBufferSize buffer when a read fills it.
const smallReadBuffer = 512

// bufPools holds one pool of *[]byte per buffer size. Pointers are pooled
// so that Put does not allocate.
var bufPools sync.Map // int -> *sync.Pool

func getBuf(size int) *[]byte {
	p, ok := bufPools.Load(size)
	if !ok {
		p, _ = bufPools.LoadOrStore(size, &sync.Pool{New: func() any {
			b := make([]byte, size)
			return &b
		}})
	}
	return p.(*sync.Pool).Get().(*[]byte)
}

func putBuf(b *[]byte) {
	if p, ok := bufPools.Load(cap(*b)); ok {
		*b = (*b)[:cap(*b)]
		p.(*sync.Pool).Put(b)
	}
}

// useBigLocked moves the read side to a pooled buffer, keeping what is
// buffered. The caller owns the read side.
func (c *Conn) useBig() {
	if c.big != nil {
		return
	}
	c.big = getBuf(c.opts.ReadBufferSize)
	n := copy(*c.big, c.rbuf[c.rr:c.rw])
	c.rbuf = *c.big
	c.rr, c.rw = 0, n
}

// releaseBig returns the pooled read buffer when nothing is buffered in
// it, so that an idle connection keeps only its inline buffer.
func (c *Conn) releaseBig() {
	if c.big == nil || c.rr != c.rw {
		return
	}
	putBuf(c.big)
	c.big = nil
	c.rbuf = c.small[:]
	c.rr, c.rw = 0, 0
}
