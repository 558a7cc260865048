#!/usr/bin/env bash
# run.sh benchmarks token verification (this library, the RSA floor, go-oidc,
# golang-jwt, jwx) and prints markdown tables with the machine they came from.
#
#   bench/run.sh                 5 rounds, every benchmark
#   COUNT=10 bench/run.sh        more rounds
#   BENCH='Verify/(floor|cognito-id)$' bench/run.sh   a subset (a -bench regexp)
#   CPUS=1,2 bench/run.sh        also at GOMAXPROCS=1: adds a "vs 1 proc" column
#   BENCHTIME=3s bench/run.sh    longer runs (default 1s)
#
# Each round is one `go test -run '^$' -bench $BENCH -benchmem -count 1` in a
# fresh process, and the tables take the median of the rounds. Rounds, rather
# than -count N (which repeats each benchmark back to back), spread background
# load over every contender alike, so the ratio to the floor stays fair on a
# busy machine. The raw output is kept in bench/bench-latest.txt (benchstat
# reads it); the tables go to stdout, progress to stderr.
#
# Profiling the library's verify path (the .prof names are git-ignored):
#   cd bench
#   go test -run '^$' -bench 'Verify/cognito-id$' -benchtime 5s \
#       -cpuprofile cpu.prof -memprofile mem.prof
#   go tool pprof -top -nodecount 25 bench.test cpu.prof
#   go tool pprof -top -nodecount 25 -sample_index alloc_space bench.test mem.prof
#   go tool pprof -top -nodecount 25 -sample_index alloc_objects bench.test mem.prof
#   go tool pprof -list 'cognito\.\(\*Verifier\)' bench.test cpu.prof   # per line
set -euo pipefail

cd "$(dirname "$0")"
count=${COUNT:-5}
bench=${BENCH:-.}
benchtime=${BENCHTIME:-1s}
cpus=${CPUS:-}
raw=bench-latest.txt

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/bench.test" .
go build -o "$bin/benchtable" ./cmd/benchtable

args=(-test.run '^$' -test.bench "$bench" -test.benchmem -test.count 1 -test.benchtime "$benchtime")
if [[ -n $cpus ]]; then
	args+=(-test.cpu "$cpus")
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
: >"$raw"
for ((i = 1; i <= count; i++)); do
	echo "round $i/$count" >&2
	"$bin/bench.test" "${args[@]}" | tee -a "$raw" >&2
done

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
gomaxprocs=${GOMAXPROCS:-"not set (Go's default)"}
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
cat <<EOF
## Verify benchmarks

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- $(go version)
- CPU: ${cpu_model:-unknown}, $(nproc) cores available, GOMAXPROCS $gomaxprocs
- $count rounds of: go test -run '^\$' -bench '$bench' -benchmem -count 1 -benchtime $benchtime${cpus:+ -cpu $cpus}
- load average before: $load_before; after: $load_after (anything near the core
  count means other work shared the CPUs and the numbers are noisier)
- ns/op is the median of the rounds, best the fastest, spread (max - min) / median,
  cpu-ns/op the process CPU time per op (median);
  × floor divides by the floor of the same table (median by median, best by best,
  cpu by cpu);
  speed-up is serial ns/op ÷ parallel ns/op (medians).
EOF
"$bin/benchtable" "$raw"
