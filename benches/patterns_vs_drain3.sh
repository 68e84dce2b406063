#!/usr/bin/env bash
# Template-mining throughput of `faultline patterns` against drain3 (its default
# TemplateMiner config) on the same input: the 8 loghub-2k message files, concatenated and
# repeated to at least 1,000,000 lines. Both are timed on the mining loop only (input read into
# memory first), pinned to one core when taskset exists. drain3 goes into a temporary venv.
#
# usage: benches/patterns_vs_drain3.sh        env: MIN_LINES (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."

data=tests/data/loghub-2k
min_lines="${MIN_LINES:-1000000}"
datasets=(Apache BGL HDFS HPC Hadoop OpenSSH Proxifier Zookeeper)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== building faultline (release)"
cargo build --release --quiet --bin faultline
faultline="${CARGO_TARGET_DIR:-target}/release/faultline"

echo "== building the input (>= $min_lines lines)"
for d in "${datasets[@]}"; do cat "$data/$d/${d}_2k.content.txt"; done > "$work/one_pass.txt"
per_pass=$(wc -l < "$work/one_pass.txt")
passes=$(( (min_lines + per_pass - 1) / per_pass ))
for _ in $(seq "$passes"); do cat "$work/one_pass.txt"; done > "$work/input.txt"
echo "input: $(wc -l < "$work/input.txt") lines ($passes x $per_pass)"

echo "== installing drain3 into a temporary venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check drain3

cat > "$work/drain3_bench.py" <<'PY'
import sys, time
from drain3 import TemplateMiner
with open(sys.argv[1], encoding="utf-8") as f:
    lines = f.read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
miner = TemplateMiner()
start = time.perf_counter()
for line in lines:
    miner.add_log_message(line)
elapsed = time.perf_counter() - start
print(f"lines: {len(lines)}")
print(f"clusters: {len(miner.drain.clusters)}")
print(f"seconds: {elapsed:.3f}")
print(f"lines/s: {len(lines) / elapsed:.0f}")
PY

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

echo "== drain3"
drain_out="$(cd "$work" && "${pin[@]}" "$work/venv/bin/python" drain3_bench.py "$work/input.txt")"
echo "$drain_out"
echo "== faultline patterns"
ours_out="$("${pin[@]}" "$faultline" patterns --input "$work/input.txt" --bench --repeat 3)"
echo "$ours_out"

rate() { awk -F': ' '/^lines\/s/ {print $2}' <<<"$1"; }
echo "== result"
awk -v d="$(rate "$drain_out")" -v o="$(rate "$ours_out")" 'BEGIN {
  printf "drain3:   %12.0f lines/s\nfaultline: %11.0f lines/s\nratio:    %12.1fx\n", d, o, o / d
}'
