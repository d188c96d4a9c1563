"""Markdown tables from the JSON files of `conformance-bench`, for docs/performance.md.

    python benchmarks/bench_tables.py "SQLite in RAM=sqlite.json" "PostgreSQL 15=pg15.json" ...

Each argument is LABEL=FILE (or just FILE: the label is then the server version).

Prints, for all files side by side: appends/s by writer count with the ratio to the bare
table, hot-instance throughput and conflicts, replay latency by store size, and the
targets. Figures are medians over rounds, as the command measured them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def label(results: dict[str, Any]) -> str:
    return results.get("label") or results["server_version"]


def median(spread: dict[str, float | None] | None, digits: int = 0) -> str:
    if not spread or spread.get("median") is None:
        return "-"
    return f"{spread['median']:,.{digits}f}"


def with_range(spread: dict[str, float | None] | None, digits: int = 2) -> str:
    if not spread or spread.get("median") is None:
        return "-"
    return f"{spread['median']:.{digits}f} ({spread['min']:.{digits}f}-{spread['max']:.{digits}f})"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def entries(results: dict[str, Any], workload: str) -> dict[int, dict[str, Any]]:
    return {e["writers"]: e for e in results["appends"] if e["workload"] == workload}


def appends_table(files: list[dict[str, Any]]) -> str:
    rows = []
    for results in files:
        distinct, bare = entries(results, "distinct"), entries(results, "bare")
        for writers in sorted(distinct):
            d, b = distinct[writers], bare.get(writers)
            rows.append(
                [
                    label(results),
                    str(writers),
                    median(d["appends_per_second"]),
                    median(b["appends_per_second"]) if b else "-",
                    with_range(d["ratio_to_bare"]["appends_per_second"]),
                    median(d["p50_ms"], 2),
                    median(d["p99_ms"], 2),
                ]
            )
    header = ["engine", "writers", "appends/s", "bare appends/s", "x bare (min-max)", "p50 ms"]
    return table([*header, "p99 ms"], rows)


def hot_table(files: list[dict[str, Any]]) -> str:
    rows = []
    for results in files:
        for writers, e in sorted(entries(results, "hot").items()):
            rows.append(
                [
                    label(results),
                    str(writers),
                    median(e["appends_per_second"]),
                    median(e["conflicts_per_append"], 2),
                    median(e["p50_ms"], 2),
                    median(e["p99_ms"], 2),
                ]
            )
    header = ["engine", "writers", "commands/s", "conflicts per command", "p50 ms", "p99 ms"]
    return table(header, rows)


def replay_table(files: list[dict[str, Any]]) -> str:
    rows = [
        [
            label(results),
            f"{e['events']:,}",
            median(e["p50_ms"], 3),
            median(e["p99_ms"], 3),
            with_range(e["p50_ratio_to_smallest"]),
            f"{e['peak_rss_mib_after_load']:.0f}",
        ]
        for results in files
        for e in results["replay"]
    ]
    header = ["engine", "events in store", "p50 ms", "p99 ms", "p50 x smallest", "peak RSS MiB"]
    return table(header, rows)


def targets_table(files: list[dict[str, Any]]) -> str:
    rows = []
    for results in files:
        for target in results["targets"]:
            wanted = (
                "-"
                if target["threshold"] is None
                else f"{target['comparison']} {target['threshold']:g}"
            )
            met = {True: "met", False: "missed", None: "no target"}[target["met"]]
            rows.append(
                [label(results), target["name"], with_range(target["measured"]), wanted, met]
            )
    return table(["engine", "target", "measured (min-max)", "wanted", ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="[LABEL=]FILE")
    files = []
    for argument in parser.parse_args().files:
        name, _, path = argument.rpartition("=")
        results = json.loads(Path(path).read_text())
        files.append({**results, "label": name} if name else results)
    for title, render in (
        ("Appends on distinct instances", appends_table),
        ("Hot instances", hot_table),
        ("Replay of a 100-event stream", replay_table),
        ("Targets", targets_table),
    ):
        print(f"### {title}\n\n{render(files)}\n")


if __name__ == "__main__":
    main()
