// Command benchtable runs the benchmarks of the bench module interleaved
// (every family once per round, several rounds), takes the median of each
// figure, and prints a markdown table with each contestant's ratio to the
// family's reference (copy, raw TCP) and to the fastest peer.
//
//	go run ./cmd/benchtable -rounds 5 -benchtime 1s > RESULTS.md
//	go run ./cmd/benchtable -quick      # a few minutes
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// families are the benchmarks run each round, in order.
var families = []string{"BenchmarkMask", "BenchmarkConnRead", "BenchmarkConnWrite", "BenchmarkEchoPingPong", "BenchmarkEchoPipelined",
	"BenchmarkEcho64Conns", "BenchmarkEchoDeflate", "BenchmarkBroadcast", "BenchmarkUpgradeRaw", "BenchmarkIdleMemory", "BenchmarkFlate", "BenchmarkInflate",
	"BenchmarkSSEFanout", "BenchmarkSSELatency", "BenchmarkLongPollFanout", "BenchmarkCometIdleMemory"}

// references name the contestant each family's ratios are measured
// against (absent: the fastest contestant).
var references = map[string]string{"BenchmarkMask": "copy", "BenchmarkEchoPingPong": "raw-tcp", "BenchmarkEchoPipelined": "raw-tcp",
	"BenchmarkEcho64Conns": "raw-tcp", "BenchmarkIdleMemory": "raw-tcp",
	"BenchmarkSSEFanout": "go-sse", "BenchmarkSSELatency": "go-sse", "BenchmarkLongPollFanout": "socket.io", "BenchmarkCometIdleMemory": "go-sse"}

type sample struct {
	nsop, allocs, custom []float64
	extra                map[string][]float64 // other custom metrics (p99-us, wire-B/msg, ...) by unit
}

func main() {
	rounds := flag.Int("rounds", 5, "rounds of every family")
	benchtime := flag.String("benchtime", "500ms", "go test -benchtime")
	quick := flag.Bool("quick", false, "2 rounds at 100ms")
	only := flag.String("only", "", "run only the families whose names match this regular expression")
	flag.Parse()
	if *only != "" {
		re := regexp.MustCompile(*only)
		var keep []string
		for _, f := range families {
			if re.MatchString(f) {
				keep = append(keep, f)
			}
		}
		families = keep
	}
	if *quick {
		*rounds, *benchtime = 2, "100ms"
	}
	data := map[string]*sample{} // full benchmark name -> samples
	var order []string
	for r := 0; r < *rounds; r++ {
		for _, fam := range families {
			out, err := exec.Command("go", "test", "-run", "^$", "-bench", "^"+fam+"$", "-benchmem", "-benchtime", *benchtime, "-count", "1", ".").CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n%s", fam, err, out)
				os.Exit(1)
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				name, s, ok := parse(sc.Text())
				if !ok {
					continue
				}
				d := data[name]
				if d == nil {
					d = &sample{}
					data[name] = d
					order = append(order, name)
				}
				d.nsop = append(d.nsop, s.nsop...)
				d.allocs = append(d.allocs, s.allocs...)
				d.custom = append(d.custom, s.custom...)
				for u, v := range s.extra {
					if d.extra == nil {
						d.extra = map[string][]float64{}
					}
					d.extra[u] = append(d.extra[u], v...)
				}
			}
		}
	}
	fmt.Printf("# duplex beside its peers\n\n%s, %s/%s, %d CPUs, %d rounds interleaved, -benchtime %s; medians, spread as min-max.\n\n",
		time.Now().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *rounds, *benchtime)
	printTargets(data)
	for _, fam := range families {
		printFamily(fam, order, data)
	}
}

// A target is one of the bench issue's goals, checked against the medians.
type target struct {
	goal  string
	value func(v func(name string) float64) (shown string, met bool)
}

// ratio formats a/b and compares it with limit (met when a/b >= limit).
func ratio(a, b, limit float64) (string, bool) {
	if a == 0 || b == 0 {
		return "not measured", false
	}
	return fmt.Sprintf("%.2fx", a/b), a/b >= limit
}

var targets = []target{
	{"masking at 16 KiB >= 0.9x copy's speed", func(v func(string) float64) (string, bool) {
		return ratio(v("Mask/copy/16KiB"), v("Mask/duplex/16KiB"), 0.9)
	}},
	{"masking at 1 MiB >= 0.9x copy's speed", func(v func(string) float64) (string, bool) {
		return ratio(v("Mask/copy/1MiB"), v("Mask/duplex/1MiB"), 0.9)
	}},
	{"masking at 125 B >= 2x gobwas", func(v func(string) float64) (string, bool) {
		return ratio(v("Mask/gobwas/125B"), v("Mask/duplex/125B"), 2)
	}},
	{"masking at 1 KiB >= 1.2x gobwas", func(v func(string) float64) (string, bool) {
		return ratio(v("Mask/gobwas/1KiB"), v("Mask/duplex/1KiB"), 1.2)
	}},
	{"16-byte read <= 25 ns, 0 allocs", func(v func(string) float64) (string, bool) {
		ns := v("ConnRead/duplex")
		return fmt.Sprintf("%.0f ns, %.0f allocs", ns, v("allocs:ConnRead/duplex")), ns <= 25 && v("allocs:ConnRead/duplex") == 0
	}},
	{"16-byte write <= 40 ns, 0 allocs", func(v func(string) float64) (string, bool) {
		ns := v("ConnWrite/duplex")
		return fmt.Sprintf("%.0f ns, %.0f allocs", ns, v("allocs:ConnWrite/duplex")), ns <= 40 && v("allocs:ConnWrite/duplex") == 0
	}},
	{"ping-pong echo >= 0.95x raw TCP (16 B / 1 KiB / 64 KiB)", func(v func(string) float64) (string, bool) {
		var shown []string
		met := true
		for _, size := range []string{"16B", "1KiB", "64KiB"} {
			r, ok := ratio(v("EchoPingPong/"+size+"/raw-tcp"), v("EchoPingPong/"+size+"/duplex"), 0.95)
			shown, met = append(shown, r), met && ok
		}
		return strings.Join(shown, " / "), met
	}},
	{"ping-pong echo >= 1.0x the fastest peer (16 B / 1 KiB / 64 KiB)", func(v func(string) float64) (string, bool) {
		var shown []string
		met := true
		for _, size := range []string{"16B", "1KiB", "64KiB"} {
			r, ok := ratio(fastest(v, "EchoPingPong/"+size+"/"), v("EchoPingPong/"+size+"/duplex"), 1)
			shown, met = append(shown, r), met && ok
		}
		return strings.Join(shown, " / "), met
	}},
	{"pipelined echo >= 3x the fastest peer (16 B / 1 KiB), 0 allocs", func(v func(string) float64) (string, bool) {
		var shown []string
		met := true
		for _, size := range []string{"16B", "1KiB"} {
			r, ok := ratio(fastest(v, "EchoPipelined/"+size+"/"), v("EchoPipelined/"+size+"/duplex"), 3)
			shown, met = append(shown, r), met && ok && v("allocs:EchoPipelined/"+size+"/duplex") == 0
		}
		return strings.Join(shown, " / "), met
	}},
	{"idle memory per connection <= 6 KiB (10,000 connections)", func(v func(string) float64) (string, bool) {
		k := v("IdleMemory/duplex")
		if k == 0 {
			return "not measured", false
		}
		return fmt.Sprintf("%.2f KiB", k), k <= 6
	}},
	{"deflate echo >= 1.2x gws, <= 1 alloc per message", func(v func(string) float64) (string, bool) {
		r, ok := ratio(v("EchoDeflate/gws"), v("EchoDeflate/duplex"), 1.2)
		return r, ok && v("allocs:EchoDeflate/duplex") <= 1
	}},
	{"broadcast to 10,000 encodes once (prepared vs loop, deflate)", func(v func(string) float64) (string, bool) {
		return ratio(v("Broadcast/duplex-loop-deflate"), v("Broadcast/duplex-prepared-deflate"), 1)
	}},
	{"SSE fan-out to 100 clients >= 1.2x go-sse (with acknowledgements)", func(v func(string) float64) (string, bool) {
		return ratio(v("SSEFanout/go-sse"), v("SSEFanout/duplex"), 1.2)
	}},
	{"long-poll fan-out >= socket.io's (Socket.IO dialect / duplex's own)", func(v func(string) float64) (string, bool) {
		a, ok1 := ratio(v("LongPollFanout/socket.io"), v("LongPollFanout/duplex"), 1)
		b, ok2 := ratio(v("LongPollFanout/socket.io"), v("LongPollFanout/duplex-native"), 1)
		return a + " / " + b, ok1 && ok2
	}},
	{"SSE delivery latency p99 <= go-sse's", func(v func(string) float64) (string, bool) {
		d, g := v("p99-us:SSELatency/duplex"), v("p99-us:SSELatency/go-sse")
		return fmt.Sprintf("%.0f us vs %.0f us (unacknowledged: %.0f us)", d, g, v("p99-us:SSELatency/duplex-unacked")), d > 0 && d <= g
	}},
	{"idle comet session <= 8 KiB (long poll / SSE / WebSocket)", func(v func(string) float64) (string, bool) {
		p, e, w := v("CometIdleMemory/poll"), v("CometIdleMemory/sse"), v("CometIdleMemory/ws")
		if p == 0 || e == 0 || w == 0 {
			return "not measured", false
		}
		return fmt.Sprintf("%.1f / %.1f / %.1f KiB (go-sse %.1f)", p, e, w, v("CometIdleMemory/go-sse")), p <= 8 && e <= 8 && w <= 8
	}},
}

// fastest returns the lowest median ns/op among the peers of a case
// (every contestant under prefix but duplex's and the references).
func fastest(v func(string) float64, prefix string) float64 {
	best := 0.0
	for _, peer := range []string{"gorilla", "gobwas", "coder", "gws", "x-net"} {
		if t := v(prefix + peer); t > 0 && (best == 0 || t < best) {
			best = t
		}
	}
	return best
}

// printTargets checks every target against the medians.
func printTargets(data map[string]*sample) {
	v := func(name string) float64 {
		kind, bench, ok := strings.Cut(name, ":")
		if !ok {
			kind, bench = "", name
		}
		s := data["Benchmark"+bench]
		if s == nil {
			return 0
		}
		switch kind {
		case "allocs":
			return median(s.allocs)
		case "":
			if len(s.custom) > 0 {
				return median(s.custom)
			}
			return median(s.nsop)
		default:
			return median(s.extra[kind])
		}
	}
	fmt.Print("## Targets\n\nRatios are of speed (higher is faster) unless a unit is given.\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range targets {
		shown, met := t.value(v)
		mark := "yes"
		if !met {
			mark = "**missed**"
		}
		fmt.Printf("| %s | %s | %s |\n", t.goal, shown, mark)
	}
	fmt.Println()
}

// parse reads one benchmark line: name, ns/op, allocs/op and one custom
// metric (KiB/conn, ratio) when present.
func parse(line string) (string, sample, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", sample{}, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		name = name[:i] // the GOMAXPROCS suffix
	}
	var s sample
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		switch f[i+1] {
		case "ns/op":
			s.nsop = append(s.nsop, v)
		case "allocs/op":
			s.allocs = append(s.allocs, v)
		case "KiB/conn":
			s.custom = append(s.custom, v)
		case "B/op", "MB/s":
		default:
			if s.extra == nil {
				s.extra = map[string][]float64{}
			}
			s.extra[f[i+1]] = append(s.extra[f[i+1]], v)
		}
	}
	return name, s, len(s.nsop) > 0
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 0 {
		return (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	return c[len(c)/2]
}

func spread(v []float64) string {
	if len(v) == 0 {
		return ""
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return fmt.Sprintf("%.4g-%.4g", c[0], c[len(c)-1])
}

// printFamily prints one table: rows grouped by case (the name between the
// family and the contestant), ratios within each case.
func printFamily(fam string, order []string, data map[string]*sample) {
	type row struct {
		caseName, contestant string
		value                float64
		s                    *sample
	}
	cases := map[string][]row{}
	var caseOrder []string
	metric := "ns/op"
	for _, name := range order {
		if !strings.HasPrefix(name, fam+"/") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(name, fam+"/"), "/")
		contestant, caseName := parts[0], ""
		if len(parts) > 1 {
			// Mask/<who>/<size>, Echo/<size>/<who>, Flate/<input>/<who>/...
			switch fam {
			case "BenchmarkMask":
				contestant, caseName = parts[0], parts[1]
			case "BenchmarkEchoPingPong":
				contestant, caseName = parts[1], parts[0]
			default:
				contestant, caseName = parts[len(parts)-1], strings.Join(parts[:len(parts)-1], "/")
				if fam == "BenchmarkFlate" {
					contestant, caseName = parts[1], parts[0]
				}
			}
		}
		s := data[name]
		v := median(s.nsop)
		if len(s.custom) > 0 {
			v, metric = median(s.custom), "KiB/conn"
		}
		if _, seen := cases[caseName]; !seen {
			caseOrder = append(caseOrder, caseName)
		}
		cases[caseName] = append(cases[caseName], row{caseName, contestant, v, s})
	}
	if len(caseOrder) == 0 {
		return
	}
	fmt.Printf("## %s\n\n| case | contestant | %s (median) | spread | allocs/op | vs reference | vs fastest other | other metrics (median) |\n|---|---|---|---|---|---|---|---|\n", strings.TrimPrefix(fam, "Benchmark"), metric)
	for _, c := range caseOrder {
		rows := cases[c]
		ref := references[fam]
		var refV float64
		for _, r := range rows {
			if r.contestant == ref {
				refV = r.value
			}
		}
		for _, r := range rows {
			best := 0.0
			for _, o := range rows {
				if o.contestant != r.contestant && o.contestant != ref && (best == 0 || o.value < best) {
					best = o.value
				}
			}
			vsRef, vsBest := "", ""
			if refV > 0 && r.contestant != ref {
				vsRef = fmt.Sprintf("%.2fx", r.value/refV)
			}
			if best > 0 && r.contestant != ref {
				vsBest = fmt.Sprintf("%.2fx", r.value/best)
			}
			sp := spread(r.s.nsop)
			if metric == "KiB/conn" {
				sp = spread(r.s.custom)
			}
			var more []string
			for u, v := range r.s.extra {
				more = append(more, fmt.Sprintf("%.4g %s", median(v), u))
			}
			sort.Strings(more)
			fmt.Printf("| %s | %s | %.4g | %s | %.0f | %s | %s | %s |\n", c, r.contestant, r.value, sp, median(r.s.allocs), vsRef, vsBest, strings.Join(more, ", "))
		}
	}
	fmt.Print("\nRatios are of time or memory: below 1.00x is faster or smaller.\n\n")
}
