#!/bin/bash
# Interleaved A/B of bench/timer_lateness.py between two checkouts of Cadence: A, B, A, B, ... so that the
# machine's drift over the hour falls on both sides alike (docs/benchmarks.md, "Measuring on a shared
# machine"). Prints each run, then the median (min, max) of the serve CPU per message, the median lateness
# and the p99 lateness of each side.
#
#   bench/ab.sh ROUNDS sqlite|postgres DIR_A DIR_B      e.g. git worktree add /tmp/cadence-a <commit>
set -euo pipefail
rounds=$1; db=$2; a=$3; b=$4
python=${PYTHON:-python}
for _ in $(seq "$rounds"); do
  for side in A B; do
    dir=$a; [ "$side" = B ] && dir=$b
    out=$(cd "$dir" && "$python" bench/timer_lateness.py --db "$db" 2>&1)
    pick() { echo "$out" | awk -v k="$1:" '$1 == k {print $2}'; }
    echo "$side cpu_ms $(pick serve_cpu_per_message) median_s $(pick lateness_median) p99_s $(pick lateness_p99)"
  done
done | "$python" -c '
import statistics, sys
runs = {"A": {}, "B": {}}
for line in sys.stdin:
    print(line.rstrip(), flush=True)
    side, *pairs = line.split()
    for name, value in zip(pairs[::2], pairs[1::2]):
        runs[side].setdefault(name, []).append(float(value))
for side, figures in runs.items():
    print(side, "  ".join(f"{n} {statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})" for n, v in figures.items()))
'
