//go:build amd64 && !purego

package mask

// useAVX2 is set when the processor and the operating system support AVX2
// (CPUID leaf 7 EBX bit 5, and XCR0 enabling the XMM and YMM state).
var useAVX2 = detectAVX2()

// Implementation names the code path XOR uses, for tests and benchmarks.
var Implementation = func() string {
	if useAVX2 {
		return "avx2"
	}
	return "sse2"
}()

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave = 1 << 27
	const avx = 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// xorAVX2 masks the n bytes at p with k64 (the rotated key, twice).
//
//go:noescape
func xorAVX2(p *byte, n int, k64 uint64)

// xorSSE2 masks the n bytes at p with k64 (the rotated key, twice).
//
//go:noescape
func xorSSE2(p *byte, n int, k64 uint64)

// xorWide masks all of b and returns len(b). Slices shorter than 16 bytes
// stay in Go, where the call would cost more than it saves.
func xorWide(b []byte, k64 uint64) int {
	if len(b) < 16 {
		return xorGeneric(b, k64)
	}
	if useAVX2 && len(b) >= 256 {
		xorAVX2(&b[0], len(b), k64)
	} else {
		xorSSE2(&b[0], len(b), k64)
	}
	return len(b)
}
