"""One chart of appends/s on MariaDB servers side by side (one server, a Galera
cluster), for docs/performance.md, from JSON files of `conformance-bench`:

    python benchmarks/cluster_chart.py docs/performance/mariadb-galera.png \
        "one node=one-node.json" "3-node cluster=cluster.json"

Bars are medians over rounds, with the min-max range as error bars, for each workload
(distinct instances, hot instances) and writer count the files have in common.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

WORKLOADS = {"distinct": "distinct instances", "hot": "hot instances"}


def figures(path: Path) -> dict[tuple[str, int], dict[str, float]]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {
        (run["workload"], run["writers"]): run["appends_per_second"]
        for run in data["appends"]
        if run["workload"] in WORKLOADS
    }


def draw(sides: dict[str, Path], output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {label: figures(path) for label, path in sides.items()}
    keys = sorted(set.intersection(*(set(f) for f in runs.values())))
    labels = [f"{WORKLOADS[w]}\n{n} writer{'s' * (n > 1)}" for w, n in keys]
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for offset, (name, figs) in enumerate(runs.items()):
        medians = [figs[k]["median"] for k in keys]
        errors = [
            [figs[k]["median"] - figs[k]["min"] for k in keys],
            [figs[k]["max"] - figs[k]["median"] for k in keys],
        ]
        xs = [i + (offset - (len(runs) - 1) / 2) * width for i in range(len(keys))]
        ax.bar(xs, medians, width, yerr=errors, capsize=3, label=name)
    ax.set_xticks(range(len(keys)), labels)
    ax.set_ylabel("appends/s (median, min-max)")
    ax.set_title("MariaDB 10.11, the shipped DDL: one server and a 3-node Galera cluster")
    ax.legend()
    fig.tight_layout()
    fig.savefig(output, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the PNG to write")
    parser.add_argument("runs", nargs="+", metavar="LABEL=FILE", help="bench JSON files")
    options = parser.parse_args()
    sides = dict(run.split("=", 1) for run in options.runs)
    draw({label: Path(path) for label, path in sides.items()}, options.output)
    print(options.output)


if __name__ == "__main__":
    main()
