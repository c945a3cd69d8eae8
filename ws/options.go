package ws

import (
	"time"
)

// Defaults of Options.
const (
	DefaultReadLimit       = 32 << 20
	DefaultReadBufferSize  = 4096
	DefaultWriteBufferSize = 4096
	DefaultWriteTimeout    = 30 * time.Second
	DefaultCloseTimeout    = 5 * time.Second
)

// Options tunes a connection. The zero value of every field selects its
// default.
type Options struct {
	// ReadLimit is the largest message, in bytes, the connection accepts
	// (after decompression). A longer one is refused with close code 1009
	// as soon as its length is known, before it is read whole.
	// DefaultReadLimit if zero; negative for no limit.
	ReadLimit int64
	// MaxFrameSize bounds a single frame's payload. ReadLimit if zero.
	MaxFrameSize int64

	// ReadBufferSize and WriteBufferSize size the connection's buffers.
	// The write buffer size is also the fragment size of NextWriter.
	ReadBufferSize, WriteBufferSize int

	// WriteTimeout bounds each write to the network, so that a peer that
	// stops reading cannot block a writer forever. DefaultWriteTimeout if
	// zero; negative for none. A deadline set with SetWriteDeadline
	// replaces it until cleared.
	WriteTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the peer's Close
	// frame. DefaultCloseTimeout if zero.
	CloseTimeout time.Duration

	// PingInterval, if positive, makes the connection ping the peer at
	// that interval, and PingTimeout (2*PingInterval if zero) closes it
	// when nothing at all was read for that long: a dead peer is dropped
	// even when the application only writes. No goroutine is used.
	PingInterval, PingTimeout time.Duration

	// Compression enables permessage-deflate (RFC 7692). nil disables it.
	Compression *CompressionOptions

	// WriteImmediately turns write coalescing off: every frame is written
	// to the network before its call returns.
	//
	// By default, a frame written while the connection holds unread
	// input (the peer pipelined more messages, already received) waits
	// in a buffer (up to CoalesceBufferSize) to go out with the replies
	// to those messages: when the reader next needs the network, when the
	// buffer fills, at Flush or Close, and at the latest after
	// CoalesceDelay. A frame written while nothing is buffered goes out at
	// once, so request-response traffic pays no latency, and a pipelining
	// peer gets its replies in a few writes instead of one per message.
	// The cost: a write error may surface on a later call, and a frame
	// written by another goroutine while the reader dawdles over
	// buffered input can wait up to CoalesceDelay.
	WriteImmediately bool
}

// Bounds of write coalescing (see Options.WriteImmediately): the bytes
// held back, and how long they may wait.
const (
	CoalesceBufferSize = 64 << 10
	CoalesceDelay      = time.Millisecond
)

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.ReadLimit == 0 {
		v.ReadLimit = DefaultReadLimit
	}
	if v.ReadLimit < 0 {
		v.ReadLimit = 1<<63 - 1
	}
	if v.MaxFrameSize <= 0 || v.MaxFrameSize > v.ReadLimit {
		v.MaxFrameSize = v.ReadLimit
	}
	if v.ReadBufferSize <= 0 {
		v.ReadBufferSize = DefaultReadBufferSize
	}
	if v.ReadBufferSize < 256 {
		v.ReadBufferSize = 256
	}
	if v.WriteBufferSize <= 0 {
		v.WriteBufferSize = DefaultWriteBufferSize
	}
	if v.WriteBufferSize < 256 {
		v.WriteBufferSize = 256
	}
	if v.WriteTimeout == 0 {
		v.WriteTimeout = DefaultWriteTimeout
	}
	if v.PingInterval > 0 && v.PingTimeout <= 0 {
		v.PingTimeout = 2 * v.PingInterval
	}
	if v.CloseTimeout <= 0 {
		v.CloseTimeout = DefaultCloseTimeout
	}
	return v
}
