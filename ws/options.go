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
}

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
