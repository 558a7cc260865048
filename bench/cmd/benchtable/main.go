// Command benchtable turns the output of `go test -bench -benchmem` (stdin, or
// the files named) into markdown tables: per benchmark group and GOMAXPROCS,
// each contender's median and best ns/op, their spread over the runs, the
// cpu-ns/op metric when reported, B/op, allocs/op, and its ratios to the
// "floor" contender of the same group (on a busy machine, noise only ever adds
// time, so the best runs and the CPU time are the steadier comparisons). A group named
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

type samples struct{ ns, cpu, bytes, allocs []float64 }

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
		if v, ok := got["cpu-ns/op"]; ok {
			s.cpu = append(s.cpu, v)
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

// column is one column of a table: its header and its cell for a contender.
type column struct {
	header string
	cell   func(k key, s *samples) string
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
		floor := t.runs[key{sec.group, "floor", sec.procs}]
		cols := []column{
			{"contender", func(k key, _ *samples) string { return k.name }},
			{"ns/op", func(_ key, s *samples) string { return num(median(s.ns)) }},
			{"best", func(_ key, s *samples) string { return num(slices.Min(s.ns)) }},
			{"spread", func(_ key, s *samples) string { return spread(s.ns) }},
		}
		if t.hasCPU(sec.group) {
			cols = append(cols, column{"cpu-ns/op", func(_ key, s *samples) string { return num(median(s.cpu)) }})
		}
		cols = append(cols,
			column{"B/op", func(_ key, s *samples) string { return num(median(s.bytes)) }},
			column{"allocs/op", func(_ key, s *samples) string { return num(median(s.allocs)) }},
			column{"× floor", func(_ key, s *samples) string { return ratio(s.ns, floor, median) }},
			column{"× floor, best", func(_ key, s *samples) string { return ratio(s.ns, floor, slices.Min) }},
		)
		if t.hasCPU(sec.group) {
			cols = append(cols, column{"× floor, cpu", func(_ key, s *samples) string {
				if floor == nil {
					return "–"
				}
				return ratio(s.cpu, &samples{ns: floor.cpu}, median)
			}})
		}
		if parallel {
			cols = append(cols, column{"speed-up", func(k key, s *samples) string {
				return speedup(t.runs[key{serial, k.name, k.procs}], s)
			}})
		}
		if parallel && sec.procs > 1 && t.has(key{sec.group, "", 1}) {
			cols = append(cols, column{"vs 1 proc", func(k key, s *samples) string {
				return speedup(t.runs[key{k.group, k.name, 1}], s)
			}})
		}

		title := sec.group + " (serial)"
		if parallel {
			title = sec.group + " (b.RunParallel)"
		}
		fmt.Fprintf(w, "\n### %s, GOMAXPROCS=%d\n\n", title, sec.procs)
		row := func(cell func(column) string) {
			for _, c := range cols {
				fmt.Fprintf(w, "| %s ", cell(c))
			}
			fmt.Fprintln(w, "|")
		}
		row(func(c column) string { return c.header })
		row(func(c column) string {
			if c.header == "contender" {
				return "---"
			}
			return "--:"
		})
		for _, k := range t.order {
			if k.group == sec.group && k.procs == sec.procs {
				row(func(c column) string { return c.cell(k, t.runs[k]) })
			}
		}
	}
}

// hasCPU reports whether the group's results carry cpu-ns/op.
func (t *table) hasCPU(group string) bool {
	for k, s := range t.runs {
		if k.group == group && len(s.cpu) > 0 {
			return true
		}
	}
	return false
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

// ratio divides v by the floor's ns/op, each summarised (median or best).
func ratio(v []float64, floor *samples, summary func([]float64) float64) string {
	if floor == nil || len(floor.ns) == 0 || len(v) == 0 {
		return "–"
	}
	r := summary(v) / summary(floor.ns)
	if r < 0.1 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// speedup is base's median ns/op ÷ s's: how much more throughput s stands for.
func speedup(base, s *samples) string {
	if base == nil || len(base.ns) == 0 || len(s.ns) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", median(base.ns)/median(s.ns))
}
