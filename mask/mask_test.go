package mask

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// implementations lists the code paths the tests run; amd64 builds add the
// vector paths the processor supports.
var implementations = []struct {
	name  string
	setup func() (restore func())
}{
	{"default", func() func() { return func() {} }},
}

func TestXORMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			defer impl.setup()()
			backing := make([]byte, 300+32)
			for n := 0; n <= 300; n++ {
				for align := 0; align < 16; align++ {
					for pos := 0; pos < 4; pos++ {
						var key [4]byte
						binaryKey := rng.Uint32()
						key = [4]byte{byte(binaryKey), byte(binaryKey >> 8), byte(binaryKey >> 16), byte(binaryKey >> 24)}
						for i := range backing {
							backing[i] = byte(rng.Uint32())
						}
						got := backing[align : align+n]
						want := append([]byte(nil), got...)
						orig := append([]byte(nil), got...)
						guardBefore := append([]byte(nil), backing[:align]...)
						guardAfter := append([]byte(nil), backing[align+n:]...)

						wantNext := Naive(want, key, pos)
						gotNext := XOR(got, key, pos)
						if gotNext != wantNext {
							t.Fatalf("n=%d align=%d pos=%d: next %d, want %d", n, align, pos, gotNext, wantNext)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("n=%d align=%d pos=%d key=%x: got %x, want %x", n, align, pos, key, got, want)
						}
						if !bytes.Equal(backing[:align], guardBefore) || !bytes.Equal(backing[align+n:], guardAfter) {
							t.Fatalf("n=%d align=%d pos=%d: wrote outside the slice", n, align, pos)
						}
						XOR(got, key, pos)
						if !bytes.Equal(got, orig) {
							t.Fatalf("n=%d align=%d pos=%d: masking twice did not restore the input", n, align, pos)
						}
					}
				}
			}
		})
	}
}

func TestXORInPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			defer impl.setup()()
			for trial := 0; trial < 500; trial++ {
				n := rng.IntN(5000)
				data := make([]byte, n)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				want := append([]byte(nil), data...)
				Naive(want, key, 0)
				pos := 0
				for rest := data; len(rest) > 0; {
					k := rng.IntN(len(rest)) + 1
					if rng.IntN(4) == 0 {
						k = min(len(rest), rng.IntN(300)+1)
					}
					pos = XOR(rest[:k], key, pos)
					rest = rest[k:]
				}
				if !bytes.Equal(data, want) {
					t.Fatalf("trial %d: piecewise masking differs", trial)
				}
			}
		})
	}
}

func TestXOROffsetModulo(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	a := []byte{0, 0, 0}
	if next := XOR(a, key, 6); next != 1 || !bytes.Equal(a, []byte{3, 4, 1}) {
		t.Fatalf("XOR with pos 6: next %d, bytes %v", next, a)
	}
	if next := XOR(nil, key, 7); next != 3 {
		t.Fatalf("XOR(nil, pos 7) = %d, want 3", next)
	}
}

// TestRFCExample masks the "Hello" of RFC 6455 §5.7.
func TestRFCExample(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b := []byte("Hello")
	XOR(b, key, 0)
	want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	if !bytes.Equal(b, want) {
		t.Fatalf("masked Hello = %x, want %x", b, want)
	}
}

func TestXORAllocs(t *testing.T) {
	b := make([]byte, 4096)
	key := [4]byte{1, 2, 3, 4}
	if n := testing.AllocsPerRun(100, func() { XOR(b[3:], key, 1) }); n != 0 {
		t.Fatalf("XOR allocates %.1f times per call", n)
	}
}

var benchSizes = []int{16, 125, 1024, 16 << 10, 1 << 20}

func BenchmarkXOR(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, impl := range implementations {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", impl.name, sizeName(n)), func(b *testing.B) {
				defer impl.setup()()
				buf := make([]byte, n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					XOR(buf, key, 0)
				}
			})
		}
	}
}

// BenchmarkCopy is the memory-speed reference: copy reads and writes each
// byte once, as masking in place does.
func BenchmarkCopy(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			src := make([]byte, n)
			dst := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

func BenchmarkNaive(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range benchSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			buf := make([]byte, n)
			b.SetBytes(int64(n))
			for b.Loop() {
				Naive(buf, key, 0)
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// FuzzXOR checks XOR (the assembly path on amd64) against the byte loop for
// any input, key, starting position and split point.
func FuzzXOR(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), 0, 2)
	f.Add(make([]byte, 300), uint32(0xffffffff), 3, 129)
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos, split int) {
		key := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		pos &= 3
		if split < 0 {
			split = -split
		}
		if len(data) > 0 {
			split %= len(data) + 1
		} else {
			split = 0
		}
		want := append([]byte(nil), data...)
		wantNext := Naive(want, key, pos)
		got := append([]byte(nil), data...)
		next := XOR(got[:split], key, pos)
		next = XOR(got[split:], key, next)
		if next != wantNext || !bytes.Equal(got, want) {
			t.Fatalf("XOR differs from Naive: len %d pos %d split %d", len(data), pos, split)
		}
	})
}
