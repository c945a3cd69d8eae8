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
	flag.Parse()
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
	for _, fam := range families {
		printFamily(fam, order, data)
	}
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
