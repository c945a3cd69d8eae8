//go:build !amd64 || purego

package mask

// Implementation names the code path XOR uses, for tests and benchmarks.
const Implementation = "generic"

func xorWide(b []byte, k64 uint64) int { return xorGeneric(b, k64) }
