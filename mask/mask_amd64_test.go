//go:build amd64 && !purego

package mask

func init() {
	// Run the SSE2 path explicitly too: on a processor with AVX2 the
	// default path never reaches it.
	implementations = append(implementations, struct {
		name  string
		setup func() (restore func())
	}{"sse2", func() func() {
		saved := useAVX2
		useAVX2 = false
		return func() { useAVX2 = saved }
	}})
}
