// Package frame parses, validates and encodes WebSocket frame headers and
// close payloads (RFC 6455 §5 and §7.4).
//
// It is the low level of duplex: it does no I/O beyond reading a header
// from an io.Reader into a caller's buffer, keeps no state, and allocates
// nothing. The ws package builds connections on it; use frame directly to
// write your own framing loop, proxy or fuzzer.
//
// Parse reads a header from bytes, ReadHeader from a reader, AppendHeader
// encodes one; Header.Validate applies the rules of RFC 6455 §5.2 and §5.5
// that need no connection state. ParseClose and AppendClose handle the
// payload of a Close frame. Every protocol violation is an Error whose
// CloseCode tells which status a connection must close with.
package frame

import "strconv"

// Opcode is the 4-bit frame type of RFC 6455 §5.2.
type Opcode uint8

// The opcodes defined by RFC 6455 §5.2. The others (0x3-0x7 and 0xB-0xF)
// are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (its high bit is set;
// RFC 6455 §5.5), reserved or not.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsData reports whether o is one of the data opcodes: continuation, text
// or binary.
func (o Opcode) IsData() bool { return o <= OpBinary }

// IsReserved reports whether o is not defined by RFC 6455.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, or "reserved(0xN)".
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved(0x" + strconv.FormatUint(uint64(o), 16) + ")"
}

// RSV holds the three reserved bits of a frame header, in the positions they
// have in the first byte on the wire (RSV1 0x40, RSV2 0x20, RSV3 0x10).
type RSV uint8

// The reserved bits. permessage-deflate (RFC 7692) gives RSV1 a meaning.
const (
	RSV1 RSV = 0x40
	RSV2 RSV = 0x20
	RSV3 RSV = 0x10
)
