"""The bench's settings: what a run measures, parsed and checked from the command line's
options before any store is made."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.ddl_script import DdlScript
from conformance.errors import KitError
from conformance.spec.profile import Profile, load_profile

DSN_ENV = "CONFORMANCE_DSN"


@dataclass(frozen=True)
class Settings:
    ddl: DdlScript
    bare_ddl: DdlScript | None
    profile: Profile
    dsn: str | None
    rounds: int
    duration: float
    writers: tuple[int, ...]
    hot_instances: int
    events: tuple[int, ...]
    replays: int
    output: Path
    charts: Path | None
    progress: bool
    journal_mode: str


# --- options -------------------------------------------------------------------


def positive_ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: not a comma-separated list of integers"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be 1 or more")
    return values


def positive_number(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ddl", required=True, metavar="FILE", help="the event store DDL to measure"
    )
    parser.add_argument(
        "--dsn",
        metavar="URL",
        help=f"database to run in, as for the plugin (env: {DSN_ENV}); default: temporary SQLite",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME|FILE",
        help="how the DDL spells the spec's names and statements, as for the plugin "
        "(docs/profiles.md); default: spec",
    )
    parser.add_argument(
        "--bare-ddl",
        metavar="FILE",
        help="the physical reference: a bare table of the same shape "
        "(default: the one shipped for the engine)",
    )
    parser.add_argument(
        "--rounds",
        type=positive_number(int),
        default=5,
        help="repeats of every measurement (default 5)",
    )
    parser.add_argument(
        "--duration",
        type=positive_number(float),
        default=2.0,
        metavar="SECONDS",
        help="length of each timed append run (default 2)",
    )
    parser.add_argument(
        "--writers",
        type=positive_ints,
        default=(1, 2, 4, 8, 16),
        metavar="N,N,...",
        help="writer counts (default 1,2,4,8,16)",
    )
    parser.add_argument(
        "--hot-instances",
        type=positive_number(int),
        default=4,
        metavar="N",
        help="shared entity instances of the hot workload (default 4)",
    )
    parser.add_argument(
        "--events",
        type=positive_ints,
        default=(10_000, 1_000_000),
        metavar="N,N,...",
        help="store sizes for replay, multiples of 100 (default 10000,1000000)",
    )
    parser.add_argument(
        "--replays",
        type=positive_number(int),
        default=500,
        metavar="N",
        help="replays per round and size (default 500)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="JSON results (default: conformance-bench-ENGINE.json)",
    )
    parser.add_argument(
        "--charts",
        type=Path,
        metavar="DIR",
        help="draw PNG charts into DIR (needs the [bench] extra)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--journal-mode",
        choices=("wal", "delete"),
        default="wal",
        help="SQLite only: the journal mode of every store (default wal)",
    )


def settings_from(options: argparse.Namespace) -> Settings:
    bad = [n for n in options.events if n % 100]
    if bad:
        raise KitError(f"--events: {bad[0]} is not a multiple of 100 (streams have 100 events)")
    if options.charts is not None:
        require_matplotlib()
    dsn = options.dsn or os.environ.get(DSN_ENV) or None
    return Settings(
        ddl=DdlScript.read(Path(options.ddl)),
        bare_ddl=DdlScript.read(Path(options.bare_ddl), "--bare-ddl") if options.bare_ddl else None,
        profile=load_profile(options.profile, "--profile"),
        dsn=dsn,
        rounds=options.rounds,
        duration=options.duration,
        writers=tuple(sorted(set(options.writers))),
        hot_instances=options.hot_instances,
        events=tuple(sorted(set(options.events))),
        replays=options.replays,
        output=options.output,
        charts=options.charts,
        progress=not options.no_progress,
        journal_mode=options.journal_mode,
    )


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise KitError(
            "--charts: matplotlib is not installed (pip install 'event-store-conformance[bench]')"
        ) from None
