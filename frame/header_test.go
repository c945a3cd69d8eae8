package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/duplexgo/duplex/mask"
)

// rfcExamples are the frames of RFC 6455 §5.7, byte for byte.
var rfcExamples = []struct {
	name    string
	wire    []byte
	header  Header
	payload string // unmasked
}{
	{
		name:    "unmasked text Hello",
		wire:    []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpText, Length: 5},
		payload: "Hello",
	},
	{
		name:    "masked text Hello",
		wire:    []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		header:  Header{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5},
		payload: "Hello",
	},
	{
		name:    "fragmented text, first",
		wire:    []byte{0x01, 0x03, 0x48, 0x65, 0x6c},
		header:  Header{Opcode: OpText, Length: 3},
		payload: "Hel",
	},
	{
		name:    "fragmented text, last",
		wire:    []byte{0x80, 0x02, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpContinuation, Length: 2},
		payload: "lo",
	},
	{
		name:    "unmasked ping",
		wire:    []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		header:  Header{Fin: true, Opcode: OpPing, Length: 5},
		payload: "Hello",
	},
	{
		name:    "masked pong",
		wire:    []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		header:  Header{Fin: true, Opcode: OpPong, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5},
		payload: "Hello",
	},
	{
		name:   "256 bytes binary",
		wire:   []byte{0x82, 0x7e, 0x01, 0x00},
		header: Header{Fin: true, Opcode: OpBinary, Length: 256},
	},
	{
		name:   "64 KiB binary",
		wire:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0},
		header: Header{Fin: true, Opcode: OpBinary, Length: 65536},
	},
}

func TestRFCExamples(t *testing.T) {
	for _, tc := range rfcExamples {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := Parse(tc.wire)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if h != tc.header {
				t.Fatalf("Parse = %+v, want %+v", h, tc.header)
			}
			if n != h.Size() {
				t.Fatalf("Parse used %d bytes, Size says %d", n, h.Size())
			}
			if got := AppendHeader(nil, h); !bytes.Equal(got, tc.wire[:n]) {
				t.Fatalf("AppendHeader = %x, want %x", got, tc.wire[:n])
			}
			if tc.payload != "" {
				p := append([]byte(nil), tc.wire[n:]...)
				if h.Masked {
					mask.XOR(p, h.Key, 0)
				}
				if string(p) != tc.payload {
					t.Fatalf("payload %q, want %q", p, tc.payload)
				}
			}
			var buf [MaxHeaderSize]byte
			rh, err := ReadHeader(iotest.OneByteReader(bytes.NewReader(tc.wire)), &buf)
			if err != nil || rh != h {
				t.Fatalf("ReadHeader through OneByteReader = %+v, %v", rh, err)
			}
		})
	}
}

func TestLengthBoundaries(t *testing.T) {
	for _, tc := range []struct {
		length int64
		size   int
	}{
		{0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {65535, 4}, {65536, 10}, {1<<32 + 7, 10}, {1<<63 - 1, 10},
	} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Length: tc.length, Masked: masked}
			if masked {
				h.Key = [4]byte{1, 2, 3, 4}
			}
			want := tc.size
			if masked {
				want += 4
			}
			b := AppendHeader(nil, h)
			if len(b) != want || h.Size() != want {
				t.Fatalf("length %d masked %v: encoded %d bytes, Size %d, want %d", tc.length, masked, len(b), h.Size(), want)
			}
			got, n, err := Parse(b)
			if err != nil || n != want || got != h {
				t.Fatalf("length %d masked %v: Parse = %+v, %d, %v", tc.length, masked, got, n, err)
			}
			// Every strict prefix is short and reports the full size once
			// the first two bytes are there.
			for i := 0; i < len(b); i++ {
				_, need, err := Parse(b[:i])
				if !errors.Is(err, ErrShortHeader) {
					t.Fatalf("length %d: prefix %d: err %v, want ErrShortHeader", tc.length, i, err)
				}
				if i >= 2 && need != want || i < 2 && need != MinHeaderSize {
					t.Fatalf("length %d: prefix %d: need %d", tc.length, i, need)
				}
			}
		}
	}
}

func TestParseLengthErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		err  error
	}{
		{"16-bit length of 0", []byte{0x82, 126, 0, 0}, ErrNonMinimalLength},
		{"16-bit length of 125", []byte{0x82, 126, 0, 125}, ErrNonMinimalLength},
		{"64-bit length of 65535", []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, ErrNonMinimalLength},
		{"64-bit length with top bit", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthOverflow},
		{"64-bit length all ones", []byte{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrLengthOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.wire)
			if err != tc.err {
				t.Fatalf("Parse: %v, want %v", err, tc.err)
			}
			if err.(Error).CloseCode() != CloseProtocolError {
				t.Fatalf("close code %v", err.(Error).CloseCode())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	masked := func(h Header) Header { h.Masked = true; return h }
	for _, tc := range []struct {
		name     string
		h        Header
		receiver Role
		allowed  RSV
		err      error
	}{
		{"text to server", masked(Header{Fin: true, Opcode: OpText, Length: 10}), RoleServer, 0, nil},
		{"text to client", Header{Fin: true, Opcode: OpText, Length: 10}, RoleClient, 0, nil},
		{"continuation without FIN", Header{Opcode: OpContinuation}, RoleClient, 0, nil},
		{"ping of 125 bytes", Header{Fin: true, Opcode: OpPing, Length: 125}, RoleClient, 0, nil},
		{"RSV1 allowed", Header{Fin: true, RSV: RSV1, Opcode: OpText}, RoleClient, RSV1, nil},
		{"unmasked to server", Header{Fin: true, Opcode: OpText}, RoleServer, 0, ErrUnmasked},
		{"masked to client", masked(Header{Fin: true, Opcode: OpText}), RoleClient, 0, ErrMasked},
		{"ping of 126 bytes", Header{Fin: true, Opcode: OpPing, Length: 126}, RoleClient, 0, ErrControlTooLong},
		{"close of 126 bytes", Header{Fin: true, Opcode: OpClose, Length: 126}, RoleClient, 0, ErrControlTooLong},
		{"fragmented ping", Header{Opcode: OpPing, Length: 1}, RoleClient, 0, ErrFragmentedControl},
		{"fragmented pong", Header{Opcode: OpPong}, RoleClient, 0, ErrFragmentedControl},
		{"RSV1 not allowed", Header{Fin: true, RSV: RSV1, Opcode: OpText}, RoleClient, 0, ErrReservedBits},
		{"RSV2", Header{Fin: true, RSV: RSV2, Opcode: OpText}, RoleClient, RSV1, ErrReservedBits},
		{"RSV3", Header{Fin: true, RSV: RSV3, Opcode: OpText}, RoleClient, RSV1, ErrReservedBits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.h.Validate(tc.receiver, tc.allowed); err != tc.err {
				t.Fatalf("Validate = %v, want %v", err, tc.err)
			}
		})
	}
	for op := Opcode(0); op < 16; op++ {
		h := Header{Fin: true, Opcode: op}
		err := h.Validate(RoleClient, 0)
		reserved := op >= 3 && op <= 7 || op >= 0xb
		if reserved != (err == ErrReservedOpcode) || reserved != op.IsReserved() {
			t.Fatalf("opcode %v: Validate = %v, IsReserved %v", op, err, op.IsReserved())
		}
		if op.IsControl() != (op >= 8) || op.IsData() != (op <= 2) {
			t.Fatalf("opcode %v: IsControl %v IsData %v", op, op.IsControl(), op.IsData())
		}
	}
}

func TestReadHeaderErrors(t *testing.T) {
	var buf [MaxHeaderSize]byte
	if _, err := ReadHeader(bytes.NewReader(nil), &buf); err != io.EOF {
		t.Fatalf("empty reader: %v, want io.EOF", err)
	}
	if _, err := ReadHeader(bytes.NewReader([]byte{0x81}), &buf); err != io.ErrUnexpectedEOF {
		t.Fatalf("one byte: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := ReadHeader(iotest.HalfReader(bytes.NewReader([]byte{0x82, 127, 0, 0})), &buf); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut extended length: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := ReadHeader(bytes.NewReader([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}), &buf); err != ErrLengthOverflow {
		t.Fatalf("overflow: %v", err)
	}
}

func TestErrorTable(t *testing.T) {
	for e := Error(1); e < errCount; e++ {
		if errorTable[e].text == "" || !errorTable[e].code.ValidOnWire() {
			t.Fatalf("error %d has no table entry", e)
		}
	}
	if ErrInvalidUTF8.CloseCode() != CloseInvalidPayload || ErrMessageTooBig.CloseCode() != CloseMessageTooBig {
		t.Fatal("payload errors map to the wrong codes")
	}
	var err error = ErrMasked
	var fe Error
	if !errors.As(err, &fe) || fe.Error() != "frame: masked frame from a server" {
		t.Fatalf("errors.As: %v", fe)
	}
}

func TestAllocs(t *testing.T) {
	wire := []byte{0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4}
	dst := make([]byte, 0, MaxHeaderSize)
	var buf [MaxHeaderSize]byte
	r := bytes.NewReader(wire)
	closePayload := []byte{0x03, 0xe8, 'b', 'y', 'e'}
	for name, f := range map[string]func(){
		"Parse":        func() { Parse(wire) },
		"AppendHeader": func() { AppendHeader(dst[:0], Header{Fin: true, Opcode: OpBinary, Length: 70000, Masked: true}) },
		"ReadHeader":   func() { r.Reset(wire); ReadHeader(r, &buf) },
		"ParseClose":   func() { ParseClose(closePayload) },
		"AppendClose":  func() { AppendClose(dst[:0], CloseGoingAway, "bye") },
		"Validate": func() {
			h := Header{Fin: true, Opcode: OpPing}
			h.Validate(RoleClient, 0)
		},
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %.1f times", name, n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range rfcExamples {
		f.Add(tc.wire)
	}
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x82, 126, 0, 5})
	f.Add([]byte{0x09, 0x80, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err == ErrShortHeader {
			if n <= len(b) || n > MaxHeaderSize {
				t.Fatalf("short header with need %d for %d bytes", n, len(b))
			}
			return
		}
		if err != nil {
			if _, ok := err.(Error); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if n != h.Size() || h.Length < 0 {
			t.Fatalf("n %d, Size %d, Length %d", n, h.Size(), h.Length)
		}
		if enc := AppendHeader(nil, h); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded %x, parsed %x", enc, b[:n])
		}
		// Validate must not panic, and the header read from a reader
		// must agree with the parsed one.
		_ = h.Validate(RoleServer, RSV1)
		var buf [MaxHeaderSize]byte
		rh, err := ReadHeader(iotest.OneByteReader(bytes.NewReader(b)), &buf)
		if err != nil || rh != h {
			t.Fatalf("ReadHeader = %+v, %v; Parse = %+v", rh, err, h)
		}
	})
}
