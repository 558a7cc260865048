// Command benchtable turns the output of `go test -bench -benchmem` (stdin, or
// the files named) into markdown tables: per benchmark group and GOMAXPROCS,
// each contender's median and best ns/op, their spread over the runs, B/op,
// allocs/op, and both ratios to the "floor" contender of the same group (on a
// busy machine, noise only ever adds time, so the best runs are the steadier
// comparison). A group named
// <G>Parallel also gets the speed-up over <G> (serial ns/op ÷ parallel ns/op)
// and, when run with -cpu 1,N, the scaling from one to N procs.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

type key struct {
	group, name string
	procs       int
}

type samples struct{ ns, bytes, allocs []float64 }

type table struct {
	order []key // first-seen order
	runs  map[key]*samples
}

func main() {
	t := &table{runs: map[key]*samples{}}
	var inputs []io.Reader
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	if len(inputs) == 0 {
		inputs = append(inputs, os.Stdin)
	}
	for _, in := range inputs {
		if err := t.read(in); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	if len(t.order) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in the input")
		os.Exit(1)
	}
	t.print(os.Stdout)
}

// read parses lines such as
//
//	BenchmarkVerify/floor-2   36117   33012 ns/op   2400 B/op   11 allocs/op
func (t *table) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		got := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				got[f[i+1]] = v
			}
		}
		ns, ok := got["ns/op"]
		if !ok {
			continue
		}
		k := parseName(f[0])
		s := t.runs[k]
		if s == nil {
			s = &samples{}
			t.runs[k] = s
			t.order = append(t.order, k)
		}
		s.ns = append(s.ns, ns)
		if v, ok := got["B/op"]; ok {
			s.bytes = append(s.bytes, v)
		}
		if v, ok := got["allocs/op"]; ok {
			s.allocs = append(s.allocs, v)
		}
	}
	return sc.Err()
}

// parseName splits "BenchmarkVerify/cognito-id-2" into the group, the
// contender and the GOMAXPROCS suffix (absent when it is 1).
func parseName(full string) key {
	k := key{procs: 1}
	if i := strings.LastIndexByte(full, '-'); i > 0 {
		if p, err := strconv.Atoi(full[i+1:]); err == nil {
			k.procs, full = p, full[:i]
		}
	}
	k.group, k.name, _ = strings.Cut(full, "/")
	return k
}

func (t *table) print(w io.Writer) {
	type section struct {
		group string
		procs int
	}
	var sections []section
	for _, k := range t.order {
		if s := (section{k.group, k.procs}); !slices.Contains(sections, s) {
			sections = append(sections, s)
		}
	}
	for _, sec := range sections {
		serial, parallel := strings.CutSuffix(sec.group, "Parallel")
		scaling := parallel && sec.procs > 1 && t.has(key{sec.group, "", 1})
		title := sec.group + " (serial)"
		if parallel {
			title = sec.group + " (b.RunParallel)"
		}
		fmt.Fprintf(w, "\n### %s, GOMAXPROCS=%d\n\n", title, sec.procs)
		fmt.Fprint(w, "| contender | ns/op | best | spread | B/op | allocs/op | × floor | × floor, best |")
		if parallel {
			fmt.Fprint(w, " speed-up |")
		}
		if scaling {
			fmt.Fprint(w, " vs 1 proc |")
		}
		fmt.Fprint(w, "\n|---|--:|--:|--:|--:|--:|--:|--:|")
		if parallel {
			fmt.Fprint(w, "--:|")
		}
		if scaling {
			fmt.Fprint(w, "--:|")
		}
		fmt.Fprintln(w)

		floor := t.runs[key{sec.group, "floor", sec.procs}]
		for _, k := range t.order {
			if k.group != sec.group || k.procs != sec.procs {
				continue
			}
			s := t.runs[k]
			ns, best := median(s.ns), slices.Min(s.ns)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |", k.name, num(ns), num(best), spread(s.ns),
				num(median(s.bytes)), num(median(s.allocs)), ratio(ns, floor, median), ratio(best, floor, slices.Min))
			if parallel {
				fmt.Fprintf(w, " %s |", speedup(t.runs[key{serial, k.name, k.procs}], ns))
			}
			if scaling {
				fmt.Fprintf(w, " %s |", speedup(t.runs[key{k.group, k.name, 1}], ns))
			}
			fmt.Fprintln(w)
		}
	}
}

// has reports whether any result is in k's group at k's procs.
func (t *table) has(k key) bool {
	for _, o := range t.order {
		if o.group == k.group && o.procs == k.procs {
			return true
		}
	}
	return false
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	s := slices.Sorted(slices.Values(v))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// spread is (max - min) / median, in percent: how far apart the runs were.
func spread(v []float64) string {
	if len(v) < 2 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", (slices.Max(v)-slices.Min(v))/median(v)*100)
}

func num(v float64) string {
	switch {
	case v < 0:
		return "–"
	case v < 100 && v != float64(int64(v)):
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// ratio is ns over the floor's ns/op summarised as ns was (median or best).
func ratio(ns float64, floor *samples, summary func([]float64) float64) string {
	if floor == nil || len(floor.ns) == 0 {
		return "–"
	}
	r := ns / summary(floor.ns)
	if r < 0.1 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// speedup is base's median ns/op ÷ ns: how much more throughput ns stands for.
func speedup(base *samples, ns float64) string {
	if base == nil || ns <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", median(base.ns)/ns)
}
