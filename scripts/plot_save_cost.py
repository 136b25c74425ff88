"""Draws how the cost of a save and a restore grows with the state's size,
from the CSV the bench writes with --sweep (scripts/bench.sh runs both).

    python plot_save_cost.py save-cost.csv save-cost.png
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def draw(axes, rows, series, title):
    """One panel: a line per (kind, column, label, color, style) in series."""
    for kind, column, label, color, style in series:
        points = [(int(r["mib"]), float(r[column])) for r in rows if r["kind"] == kind]
        axes.plot(*zip(*points), style, marker="o", color=color, label=label)
    axes.set(xscale="log", yscale="log", xlabel="state size (MiB)", ylabel="seconds",
             title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    draw(left, rows, [
        ("random", "raw_write_fsync_s", "write_all + fsync of the raw bytes", "black", "--"),
        ("random", "save_s", "save, random doubles (stored raw)", "tab:red", "-"),
        ("compressible", "save_s", "save, sparse field (zstd)", "tab:green", "-"),
        ("random", "stall_s", "stall of a background save (random)", "tab:orange", "-"),
        ("random", "memcpy_s", "clone of the state (memcpy)", "grey", ":"),
    ], "Durable save (write, fsync, rename, fsync dir)")
    draw(right, rows, [
        ("random", "raw_read_s", "fs::read of the raw bytes", "black", "--"),
        ("random", "restore_s", "restore, random doubles", "tab:red", "-"),
        ("compressible", "restore_s", "restore, sparse field (zstd)", "tab:green", "-"),
    ], "Restore (file in the page cache)")
    fig.suptitle("checkpoint: cost against state size, Vec<f64> (scripts/bench.sh)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
