package utf8check

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

func valid(pieces ...[]byte) bool {
	var v Validator
	for _, p := range pieces {
		if !v.Write(p) {
			return false
		}
	}
	return v.Complete()
}

func TestAgainstStdlib(t *testing.T) {
	cases := []string{
		"", "hello", "κόσμε", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
		"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\x80",
		"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", "\xc2", "\xe1\x80",
	}
	for _, s := range cases {
		if got, want := valid([]byte(s)), utf8.ValidString(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
	// Every two- and three-byte sequence of interesting bytes, split at
	// every position.
	interesting := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	for _, a := range interesting {
		for _, b := range interesting {
			for _, c := range interesting {
				for _, d := range interesting {
					s := []byte{a, b, c, d}
					want := utf8.Valid(s)
					for split := 0; split <= 4; split++ {
						if got := valid(s[:split], s[split:]); got != want {
							t.Fatalf("%x split %d: %v, want %v", s, split, got, want)
						}
					}
				}
			}
		}
	}
}

func TestRandomSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 20000; trial++ {
		n := rng.IntN(40)
		s := make([]byte, 0, n)
		for len(s) < n {
			switch rng.IntN(3) {
			case 0:
				s = append(s, byte(rng.IntN(128)))
			case 1:
				s = utf8.AppendRune(s, rune(rng.IntN(0x110000)))
			default:
				s = append(s, byte(rng.IntN(256)))
			}
		}
		var v Validator
		ok := true
		for rest := s; len(rest) > 0 && ok; {
			k := rng.IntN(len(rest)) + 1
			ok = v.Write(rest[:k])
			rest = rest[k:]
		}
		if got, want := ok && v.Complete(), utf8.Valid(s); got != want {
			t.Fatalf("%x: %v, want %v", s, got, want)
		}
	}
}

// TestFailFast checks that the first invalid byte is reported by the
// Write that carries it, not later.
func TestFailFast(t *testing.T) {
	var v Validator
	if !v.Write([]byte("κόσμε")) || v.Write([]byte{0xed, 0xa0}) {
		t.Fatal("the surrogate's second byte was not reported at once")
	}
}

func FuzzValidator(f *testing.F) {
	f.Add([]byte("κόσμε\xed\xa0\x80"), 3)
	f.Fuzz(func(t *testing.T, s []byte, split int) {
		if split < 0 {
			split = -split
		}
		split %= len(s) + 1
		var v Validator
		got := v.Write(s[:split]) && v.Write(s[split:]) && v.Complete()
		if want := utf8.Valid(s); got != want {
			t.Fatalf("%x split %d: %v, want %v", s, split, got, want)
		}
	})
}

func BenchmarkValidator(b *testing.B) {
	ascii := make([]byte, 4096)
	for i := range ascii {
		ascii[i] = 'a' + byte(i%26)
	}
	b.SetBytes(int64(len(ascii)))
	for b.Loop() {
		var v Validator
		v.Write(ascii)
	}
}
