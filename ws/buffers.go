package ws

import (
	"sync"
	"sync/atomic"
)

// smallReadBuffer is the inline read buffer an idle connection reads
// into: large enough for a header or a small message, so that an idle
// connection holds no pooled buffer, and a busy one upgrades to a pooled
// ReadBufferSize buffer when a read fills it.
const smallReadBuffer = 512

// bufPools holds one pool of *[]byte per buffer size in use (a handful:
// the read and write buffer sizes of the Options in use, and the
// coalescing buffer), as an immutable slice swapped on the rare addition,
// so that the hot path finds its pool with a short scan and no lock or
// hashing. Pointers are pooled so that Put does not allocate.
var (
	bufPools   atomic.Pointer[[]sizedPool]
	bufPoolsMu sync.Mutex
)

type sizedPool struct {
	size int
	pool *sync.Pool
}

func poolFor(size int) *sync.Pool {
	if ps := bufPools.Load(); ps != nil {
		for i := range *ps {
			if (*ps)[i].size == size {
				return (*ps)[i].pool
			}
		}
	}
	bufPoolsMu.Lock()
	defer bufPoolsMu.Unlock()
	var cur []sizedPool
	if ps := bufPools.Load(); ps != nil {
		cur = *ps
	}
	for _, p := range cur {
		if p.size == size {
			return p.pool
		}
	}
	p := &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}}
	next := append(append(make([]sizedPool, 0, len(cur)+1), cur...), sizedPool{size, p})
	bufPools.Store(&next)
	return p
}

func getBuf(size int) *[]byte {
	return poolFor(size).Get().(*[]byte)
}

// putBuf returns b to its size's pool; buffers of sizes never pooled (a
// one-off buffer of its own) are left to the garbage collector.
func putBuf(b *[]byte) {
	size := cap(*b)
	if ps := bufPools.Load(); ps != nil {
		for i := range *ps {
			if (*ps)[i].size == size {
				*b = (*b)[:size]
				(*ps)[i].pool.Put(b)
				return
			}
		}
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

// maxReadBuffer is how far a busy connection's read buffer grows: a read
// that fills it says the peer is sending faster than one buffer a read,
// as a pipelining client does, and a larger buffer means fewer reads (and,
// with write coalescing, fewer writes, since replies are flushed before
// each read that might wait).
const maxReadBuffer = 64 << 10

// growBig doubles the pooled read buffer (up to maxReadBuffer), keeping
// what is buffered. The caller owns the read side and has just filled it.
func (c *Conn) growBig() {
	size := 2 * len(c.rbuf)
	if size > maxReadBuffer {
		size = maxReadBuffer
	}
	if size <= len(c.rbuf) {
		return
	}
	nb := getBuf(size)
	n := copy(*nb, c.rbuf[c.rr:c.rw])
	putBuf(c.big)
	c.big = nb
	c.rbuf = *nb
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
