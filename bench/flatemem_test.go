package bench

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// BenchmarkFlateMemory reports (as KiB/conn) the heap one compressor and
// one decompressor keep after a message: what a connection with context
// takeover holds for each direction.
func BenchmarkFlateMemory(b *testing.B) {
	msg := bytes.Repeat([]byte(`{"id":1,"name":"x","tags":["a","b"]}`), 100)
	var comp bytes.Buffer
	cw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	cw.Write(msg)
	cw.Close()
	measure := func(b *testing.B, mk func() any) {
		const n = 50
		keep := make([]any, n)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := range keep {
			keep[i] = mk()
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(keep)
		for b.Loop() {
		}
		b.ReportMetric(float64(m1.HeapInuse-m0.HeapInuse)/n/1024, "KiB/conn")
	}
	b.Run("writer/stdlib", func(b *testing.B) {
		measure(b, func() any {
			w, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
			w.Write(msg)
			w.Flush()
			return w
		})
	})
	b.Run("writer/klauspost", func(b *testing.B) {
		measure(b, func() any {
			w, _ := kflate.NewWriter(io.Discard, kflate.BestSpeed)
			w.Write(msg)
			w.Flush()
			return w
		})
	})
	b.Run("reader/stdlib", func(b *testing.B) {
		measure(b, func() any {
			r := flate.NewReader(bytes.NewReader(comp.Bytes()))
			io.Copy(io.Discard, r)
			return r
		})
	})
	b.Run("reader/klauspost", func(b *testing.B) {
		measure(b, func() any {
			r := kflate.NewReader(bytes.NewReader(comp.Bytes()))
			io.Copy(io.Discard, r)
			return r
		})
	})
}
