// Package mask implements the client-to-server masking of RFC 6455 §5.3.
//
// A masked payload is XORed byte by byte with a 4-byte key: payload byte i
// is XORed with key[i%4]. Because masking is its own inverse, the same
// function masks and unmasks.
//
// A payload usually arrives or leaves in pieces (several reads from a
// socket, or a frame written in chunks). XOR therefore takes the position in
// the key at which the piece starts and returns the position at which the
// next piece starts, so
//
//	pos := mask.XOR(a, key, 0)
//	mask.XOR(b, key, pos)
//
// gives the same bytes as masking a and b as one slice.
//
// The work is done a machine word, or on amd64 a vector register, at a time.
// Building with the purego tag selects the portable implementation.
package mask

import (
	"encoding/binary"
	"math/bits"
)

// XOR masks (or unmasks) b in place with key, starting at key position pos
// (taken modulo 4), and returns the key position for the byte after b.
//
// XOR does not allocate and is safe for concurrent use on distinct slices.
func XOR(b []byte, key [4]byte, pos int) int {
	pos &= 3
	if len(b) == 0 {
		return pos
	}
	next := (pos + len(b)) & 3
	k32 := binary.LittleEndian.Uint32(key[:])
	if k32 == 0 {
		return next
	}
	if len(b) < 8 {
		for i := range b {
			b[i] ^= key[(pos+i)&3]
		}
		return next
	}
	// Rotate the key so that its low byte is the one b[0] is XORed with.
	k32 = bits.RotateLeft32(k32, -8*pos)
	k64 := uint64(k32)<<32 | uint64(k32)
	n := xorWide(b, k64)
	b = b[n:]
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	// Fewer than 8 bytes remain and they start at a multiple of 8 from the
	// first byte, so the key's rotation is still the one k64 holds.
	for i := range b {
		b[i] ^= byte(k64 >> (8 * uint(i)))
	}
	return next
}

// xorGeneric masks a prefix of b whose length is a multiple of 32, eight
// bytes at a time, with k64 (the key repeated twice, already rotated), and
// returns the length of that prefix.
func xorGeneric(b []byte, k64 uint64) int {
	n := len(b) &^ 31
	for i := 0; i < n; i += 32 {
		w := b[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(w[0:], binary.LittleEndian.Uint64(w[0:])^k64)
		binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(w[8:])^k64)
		binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(w[16:])^k64)
		binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(w[24:])^k64)
	}
	return n
}

// Naive masks b byte by byte. It is the reference the optimised code is
// tested against and is exported for tests and benchmarks of other
// packages; use XOR.
func Naive(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}
