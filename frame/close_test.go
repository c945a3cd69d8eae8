package frame

import (
	"bytes"
	"testing"
)

func TestCloseCodeValidity(t *testing.T) {
	valid := func(c int) bool {
		return c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999
	}
	for c := 0; c <= 0xffff; c++ {
		if got := CloseCode(c).ValidOnWire(); got != valid(c) {
			t.Fatalf("CloseCode(%d).ValidOnWire() = %v", c, got)
		}
	}
	// The codes the issue names, spelled out.
	for _, c := range []CloseCode{1004, 1005, 1006, 1015, 0, 999, 1016, 2999, 5000, 65535} {
		if c.ValidOnWire() {
			t.Fatalf("%v valid on the wire", c)
		}
	}
}

func TestParseClose(t *testing.T) {
	long := bytes.Repeat([]byte{'a'}, 124)
	for _, tc := range []struct {
		name   string
		p      []byte
		code   CloseCode
		reason string
		err    error
	}{
		{"empty", nil, CloseNoStatus, "", nil},
		{"normal", []byte{0x03, 0xe8}, CloseNormal, "", nil},
		{"with reason", append([]byte{0x03, 0xe9}, "bye"...), CloseGoingAway, "bye", nil},
		{"UTF-8 reason", append([]byte{0x0f, 0xa0}, "κόσμε"...), 4000, "κόσμε", nil},
		{"longest reason", append([]byte{0x03, 0xe8}, long[:123]...), CloseNormal, string(long[:123]), nil},
		{"one byte", []byte{0x03}, 0, "", ErrCloseLength},
		{"too long", append([]byte{0x03, 0xe8}, long...), 0, "", ErrControlTooLong},
		{"code 0", []byte{0, 0}, 0, "", ErrCloseCode},
		{"code 999", []byte{0x03, 0xe7}, 999, "", ErrCloseCode},
		{"code 1004", []byte{0x03, 0xec}, 1004, "", ErrCloseCode},
		{"code 1005", []byte{0x03, 0xed}, 1005, "", ErrCloseCode},
		{"code 1006", []byte{0x03, 0xee}, 1006, "", ErrCloseCode},
		{"code 1015", []byte{0x03, 0xf7}, 1015, "", ErrCloseCode},
		{"code 1016", []byte{0x03, 0xf8}, 1016, "", ErrCloseCode},
		{"code 2999", []byte{0x0b, 0xb7}, 2999, "", ErrCloseCode},
		{"code 5000", []byte{0x13, 0x88}, 5000, "", ErrCloseCode},
		{"code 65535", []byte{0xff, 0xff}, 65535, "", ErrCloseCode},
		{"invalid UTF-8", []byte{0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64}, CloseNormal, "", ErrCloseReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClose(tc.p)
			if err != tc.err || code != tc.code || string(reason) != tc.reason {
				t.Fatalf("ParseClose = %v, %q, %v; want %v, %q, %v", code, reason, err, tc.code, tc.reason, tc.err)
			}
			if err == nil && code != CloseNoStatus {
				b, err := AppendClose(nil, code, string(reason))
				if err != nil || !bytes.Equal(b, tc.p) {
					t.Fatalf("AppendClose = %x, %v", b, err)
				}
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	if b, err := AppendClose(nil, CloseNoStatus, ""); err != nil || len(b) != 0 {
		t.Fatalf("no status: %x, %v", b, err)
	}
	if _, err := AppendClose(nil, CloseNoStatus, "x"); err != ErrCloseCode {
		t.Fatalf("no status with reason: %v", err)
	}
	if _, err := AppendClose(nil, CloseAbnormal, ""); err != ErrCloseCode {
		t.Fatalf("1006: %v", err)
	}
	if _, err := AppendClose(nil, CloseNormal, string(make([]byte, 124))); err != ErrCloseReasonTooLong {
		t.Fatalf("long reason: %v", err)
	}
	if _, err := AppendClose(nil, CloseNormal, "\xff"); err != ErrCloseReason {
		t.Fatalf("bad reason: %v", err)
	}
}

func TestCloseCodeString(t *testing.T) {
	for c, want := range map[CloseCode]string{
		1000: "1000 (normal closure)", 1009: "1009 (message too big)", 3001: "3001 (registered)",
		4321: "4321 (private use)", 2000: "2000 (invalid)", 1015: "1015 (TLS handshake failure)",
	} {
		if got := c.String(); got != want {
			t.Errorf("%d: %q, want %q", c, got, want)
		}
	}
	if OpText.String() != "text" || Opcode(0xb).String() != "reserved(0xb)" {
		t.Errorf("opcode names: %v %v", OpText, Opcode(0xb))
	}
}

func FuzzParseClose(f *testing.F) {
	f.Add([]byte{0x03, 0xe8})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xe8, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		if err != nil {
			return
		}
		if code == CloseNoStatus {
			if len(p) != 0 {
				t.Fatalf("CloseNoStatus from %x", p)
			}
			return
		}
		b, err := AppendClose(nil, code, string(reason))
		if err != nil || !bytes.Equal(b, p) {
			t.Fatalf("round trip %x -> %x, %v", p, b, err)
		}
	})
}
