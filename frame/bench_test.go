package frame

import (
	"bytes"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    Header
	}{
		{"7bit", Header{Fin: true, Opcode: OpText, Length: 16}},
		{"16bit-masked", Header{Fin: true, Opcode: OpBinary, Length: 1024, Masked: true, Key: [4]byte{1, 2, 3, 4}}},
		{"64bit-masked", Header{Fin: true, Opcode: OpBinary, Length: 1 << 20, Masked: true, Key: [4]byte{1, 2, 3, 4}}},
	} {
		wire := AppendHeader(nil, tc.h)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Length: 1024, Masked: true, Key: [4]byte{1, 2, 3, 4}}
	dst := make([]byte, 0, MaxHeaderSize)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendHeader(dst[:0], h)
	}
}

func BenchmarkReadHeader(b *testing.B) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Length: 1024, Masked: true})
	r := bytes.NewReader(wire)
	var buf [MaxHeaderSize]byte
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(wire)
		if _, err := ReadHeader(r, &buf); err != nil {
			b.Fatal(err)
		}
	}
}
