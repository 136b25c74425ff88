#!/usr/bin/env bash
# The README's "Performance" figures: prints the table of ratios (each
# against its baseline measured in the same run, with its target), then
# measures saves from 1 MiB to 1 GiB and draws docs/save-cost.png.
#
#   scripts/bench.sh                            # the full run, ~2 minutes here
#   CHECKPOINT_BENCH_SCALE=0.05 scripts/bench.sh --no-sweep   # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

sweep=--sweep
if [[ "${1:-}" == "--no-sweep" ]]; then
    sweep=
fi
mkdir -p target
cargo bench -p checkpoint-bench --bench ratios -- $sweep | tee target/bench-table.md
# The MPI rows, under mpirun -np 4, where MPI is installed (feature `mpi`).
if command -v mpirun >/dev/null; then
    cargo build --release -q -p checkpoint-bench --features mpi --bin mpi_ratios
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        mpirun --oversubscribe -np 4 target/release/mpi_ratios | tee -a target/bench-table.md
else
    echo "bench.sh: no mpirun: the MPI rows are skipped" >&2
fi
[[ -n "$sweep" ]] || exit 0

if ! command -v python3 >/dev/null; then
    echo "bench.sh: no python3: the plot is skipped (the CSV is in target/tmp/save-cost.csv)" >&2
    exit 0
fi
venv=target/bench-venv
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet matplotlib
fi
"$venv/bin/python" scripts/plot_save_cost.py target/tmp/save-cost.csv docs/save-cost.png
