"""Results of one bench run: collected as measured, judged against the targets, and shown
as a terminal table, a JSON file and PNG charts."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.backends import Backend
from conformance.bench.settings import Settings
from conformance.bench.stats import Spread, paired_ratios
from conformance.bench.workloads import BARE, DISTINCT, HOT, RunResult
from conformance.ddl_script import DdlScript

FORMAT = "conformance-bench/1"
WORKLOAD_WORDS = {
    DISTINCT: "distinct instances",
    BARE: "bare table",
    HOT: "hot instances",
}
# The targets. Single-writer appends against the bare table, by engine.
SINGLE_WRITER_TARGETS = {"sqlite": 0.7, "postgresql": 0.8, "postgres": 0.8}
SCALING_WRITERS, SCALING_TARGET = 8, 1.8
REPLAY_SIZES, REPLAY_TARGET = (10_000, 1_000_000), 1.3


@dataclass(frozen=True)
class Target:
    name: str
    measured: Spread | None
    threshold: float | None
    higher_is_better: bool

    @property
    def met(self) -> bool | None:
        if self.measured is None or self.threshold is None or math.isnan(self.measured.median):
            return None
        if self.higher_is_better:
            return self.measured.median >= self.threshold
        return self.measured.median <= self.threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured.as_json() if self.measured else None,
            "threshold": self.threshold,
            "comparison": ">=" if self.higher_is_better else "<=",
            "met": self.met,
        }


def ddl_json(ddl: DdlScript) -> dict[str, str]:
    return {"path": str(ddl.path), "sha256": ddl.sha256}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Report:
    engine: str
    server_version: str
    header: dict[str, Any]
    runs: dict[tuple[str, int], list[RunResult]] = field(default_factory=lambda: defaultdict(list))
    replays: dict[int, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    memory: dict[int, float] = field(default_factory=dict)
    stores_checked: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    @classmethod
    def start(
        cls, settings: Settings, backend: Backend, bare_ddl: DdlScript, setup: list[str]
    ) -> Report:
        header = {
            "format": FORMAT,
            "kit_version": __version__,
            "engine": backend.name,
            "server_version": backend.server_version(),
            "ddl": ddl_json(settings.ddl),
            "profile": {
                "name": settings.profile.name,
                "source": settings.profile.source,
                "sha256": settings.profile.sha256,
            },
            "bare_ddl": ddl_json(bare_ddl),
            "settings": {
                "rounds": settings.rounds,
                "duration_s": settings.duration,
                "writers": list(settings.writers),
                "hot_instances": settings.hot_instances,
                "events": list(settings.events),
                "replays_per_round": settings.replays,
                "session_setup": setup,
            },
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return cls(backend.name, backend.server_version(), header)

    # --- collecting ---------------------------------------------------------

    def add_run(self, workload: str, writers: int, result: RunResult) -> None:
        self.runs[(workload, writers)].append(result)

    def add_replay(self, events: int, p50_ms: float, p99_ms: float) -> None:
        self.replays[events].append((p50_ms, p99_ms))

    def add_phase(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def add_memory(self, events: int) -> None:
        self.memory[events] = peak_rss_mib()

    def finish(self) -> None:
        self.seconds = time.monotonic() - self.started

    # --- figures ------------------------------------------------------------

    def writer_counts(self, workload: str) -> list[int]:
        return sorted(n for (w, n) in self.runs if w == workload)

    def rates(self, workload: str, writers: int) -> list[float]:
        return [r.rate for r in self.runs.get((workload, writers), [])]

    def vs_bare(self, writers: int, figure: str) -> Spread | None:
        mine, bare = self.runs.get((DISTINCT, writers)), self.runs.get((BARE, writers))
        if not mine or not bare or len(mine) != len(bare):
            return None
        pick = (lambda r: r.rate) if figure == "rate" else (lambda r: getattr(r, figure))
        return paired_ratios([pick(r) for r in mine], [pick(r) for r in bare])

    def replay_vs_smallest(self, events: int) -> Spread | None:
        sizes = sorted(self.replays)
        if not sizes:
            return None
        smallest = self.replays[sizes[0]]
        return paired_ratios([p50 for p50, _ in self.replays[events]], [p50 for p50, _ in smallest])

    def targets(self) -> list[Target]:
        scaling = None
        if (DISTINCT, 1) in self.runs and (DISTINCT, SCALING_WRITERS) in self.runs:
            scaling = paired_ratios(self.rates(DISTINCT, SCALING_WRITERS), self.rates(DISTINCT, 1))
        small, large = REPLAY_SIZES
        replay = None
        if small in self.replays and large in self.replays:
            replay = paired_ratios(
                [p for p, _ in self.replays[large]], [p for p, _ in self.replays[small]]
            )
        return [
            Target(
                "single-writer appends/s vs the bare table",
                self.vs_bare(1, "rate"),
                SINGLE_WRITER_TARGETS.get(self.engine),
                higher_is_better=True,
            ),
            Target(
                f"{SCALING_WRITERS} writers vs 1 writer on distinct instances, appends/s",
                scaling,
                SCALING_TARGET,
                higher_is_better=True,
            ),
            Target(
                f"replay p50 at {large:,} vs {small:,} events",
                replay,
                REPLAY_TARGET,
                higher_is_better=False,
            ),
        ]

    # --- JSON ---------------------------------------------------------------

    def append_json(self) -> list[dict[str, Any]]:
        entries = []
        order = {DISTINCT: 0, BARE: 1, HOT: 2}
        for (workload, writers), runs in sorted(
            self.runs.items(), key=lambda i: (order[i[0][0]], i[0][1])
        ):
            ratio = {
                figure: spread.as_json() if spread else None
                for figure in ("rate", "p50_ms", "p99_ms")
                for spread in [self.vs_bare(writers, figure) if workload == DISTINCT else None]
            }
            entries.append(
                {
                    "workload": workload,
                    "writers": writers,
                    "appends_per_second": Spread.of([r.rate for r in runs]).as_json(),
                    "p50_ms": Spread.of([r.p50_ms for r in runs]).as_json(),
                    "p99_ms": Spread.of([r.p99_ms for r in runs]).as_json(),
                    "conflicts_per_append": Spread.of(
                        [r.conflicts / r.appends if r.appends else math.nan for r in runs]
                    ).as_json(),
                    "errors": sum(r.errors for r in runs),
                    "gave_up": sum(r.gave_up for r in runs),
                    "ratio_to_bare": {
                        "appends_per_second": ratio["rate"],
                        "p50_ms": ratio["p50_ms"],
                        "p99_ms": ratio["p99_ms"],
                    },
                    "rounds": [r.as_json() for r in runs],
                }
            )
        return entries

    def replay_json(self) -> list[dict[str, Any]]:
        entries = []
        for events, rounds in sorted(self.replays.items()):
            ratio = self.replay_vs_smallest(events)
            entries.append(
                {
                    "events": events,
                    "p50_ms": Spread.of([p for p, _ in rounds]).as_json(),
                    "p99_ms": Spread.of([p for _, p in rounds]).as_json(),
                    "p50_ratio_to_smallest": ratio.as_json() if ratio else None,
                    "peak_rss_mib_after_load": self.memory.get(events),
                    "rounds": [{"p50_ms": p50, "p99_ms": p99} for p50, p99 in rounds],
                }
            )
        return entries

    def as_json(self) -> dict[str, Any]:
        return {
            **self.header,
            "seconds": self.seconds,
            "phase_seconds": self.phases,
            "appends": self.append_json(),
            "replay": self.replay_json(),
            "targets": [t.as_json() for t in self.targets()],
            "invariants": {"stores_checked": self.stores_checked, "violations": []},
        }


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")


# --- terminal table ------------------------------------------------------------


def number(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def spread_text(spread: Spread | None, digits: int = 0) -> str:
    if spread is None:
        return "-"
    return f"{number(spread.median, digits)} [{number(spread.min, digits)}-{number(spread.max, digits)}]"


def render_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    return out


def _profile_words(report: Report) -> str:
    profile = report.header.get("profile") or {"name": "spec", "sha256": ""}
    return f"{profile['name']} (sha256 {profile['sha256'][:12]})"


def render_table(report: Report) -> str:
    settings = report.header["settings"]
    lines = [
        f"{report.engine}: {report.server_version}; ddl {report.header['ddl']['path']} "
        f"(sha256 {report.header['ddl']['sha256'][:12]}); profile {_profile_words(report)}; "
        f"{settings['rounds']} rounds; "
        "figures are median [min-max] over rounds",
        "",
        f"appends, {settings['duration_s']:g} s per run, one event per transaction",
    ]
    rows = []
    for entry in report.append_json():
        ratio = entry["ratio_to_bare"]
        rows.append(
            [
                WORKLOAD_WORDS[entry["workload"]],
                str(entry["writers"]),
                spread_text(as_spread(entry["appends_per_second"])),
                spread_text(as_spread(ratio["appends_per_second"]), 2),
                spread_text(as_spread(entry["p50_ms"]), 2),
                spread_text(as_spread(ratio["p50_ms"]), 2),
                spread_text(as_spread(entry["p99_ms"]), 2),
                spread_text(as_spread(ratio["p99_ms"]), 2),
                number(entry["conflicts_per_append"]["median"], 2),
                str(entry["errors"]),
            ]
        )
    lines += render_rows(
        [
            "workload",
            "writers",
            "appends/s",
            "x bare",
            "p50 ms",
            "x bare",
            "p99 ms",
            "x bare",
            "conflicts/append",
            "errors",
        ],
        rows,
    )
    lines += [
        "",
        f"replay of one 100-event stream, {settings['replays_per_round']} replays per round",
    ]
    rows = [
        [
            f"{entry['events']:,} events",
            spread_text(as_spread(entry["p50_ms"]), 3),
            spread_text(as_spread(entry["p99_ms"]), 3),
            spread_text(as_spread(entry["p50_ratio_to_smallest"]), 2),
            number(entry["peak_rss_mib_after_load"], 1),
        ]
        for entry in report.replay_json()
    ]
    lines += render_rows(["store", "p50 ms", "p99 ms", "p50 x smallest", "peak RSS MiB"], rows)
    lines += ["", "targets"]
    rows = [
        [
            target.name,
            spread_text(target.measured, 3),
            "-"
            if target.threshold is None
            else f"{'>=' if target.higher_is_better else '<='} {target.threshold:g}",
            {
                True: "met",
                False: "MISSED",
                None: "not measured" if target.measured is None else "no target",
            }[target.met],
        ]
        for target in report.targets()
    ]
    lines += render_rows(["target", "measured", "wanted", ""], rows)
    lines += ["", f"invariants: {report.stores_checked} stores checked, every invariant holds"]
    return "\n".join(lines)


def as_spread(data: dict[str, float | None] | None) -> Spread | None:
    if data is None:
        return None
    return Spread(*(math.nan if data[k] is None else data[k] for k in ("median", "min", "max")))


# --- charts --------------------------------------------------------------------


def draw_charts(report: Report, folder: Path) -> list[Path]:
    """Throughput by writer count, and replay latency by store size, as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    folder.mkdir(parents=True, exist_ok=True)
    title = report.server_version.split(" (")[0]  # "PostgreSQL 15.20", without the build

    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for workload in (DISTINCT, BARE, HOT):
        counts = report.writer_counts(workload)
        spreads = [Spread.of(report.rates(workload, n)) for n in counts]
        plot_spreads(axes, counts, spreads, WORKLOAD_WORDS[workload])
    axes.set_xscale("log", base=2)
    axes.set_xticks(report.writer_counts(DISTINCT) or [1])
    axes.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    throughput = folder / f"{report.engine}-throughput.png"
    finish(axes, "concurrent writers", "acknowledged appends per second")
    save(figure, throughput, f"append throughput, {title}", pyplot)

    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    sizes = sorted(report.replays)
    for index, label in ((0, "p50"), (1, "p99")):
        spreads = [Spread.of([r[index] for r in report.replays[n]]) for n in sizes]
        plot_spreads(axes, sizes, spreads, label)
    axes.set_xscale("log")
    replay = folder / f"{report.engine}-replay.png"
    finish(axes, "events in the store", "replay latency of a 100-event stream, ms")
    save(figure, replay, f"replay latency, {title}", pyplot)
    return [throughput, replay]


def plot_spreads(axes: Any, xs: list[int], spreads: list[Spread], label: str) -> None:
    """Medians joined by a line, min and max as error bars."""
    if not xs:
        return
    axes.errorbar(
        xs,
        [s.median for s in spreads],
        yerr=[[s.median - s.min for s in spreads], [s.max - s.median for s in spreads]],
        marker="o",
        capsize=3,
        label=label,
    )


def finish(axes: Any, xlabel: str, ylabel: str) -> None:
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    axes.legend()
    axes.grid(alpha=0.3)


def save(figure: Any, path: Path, title: str, pyplot: Any) -> None:
    figure.axes[0].set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
