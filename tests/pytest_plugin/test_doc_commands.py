"""Every `pytest` command README.md and docs/*.md show runs as written, so the docs
cannot drift from the kit again.

Commands are read out of the Markdown: lines of code blocks, inline code, and the
folded `run: >` of a CI job in YAML. Placeholders are mapped, each in one place below:
a DDL the reader supplies (`my.ddl`) becomes the shipped DDL for the engine of the
command's DSN, a PostgreSQL or MariaDB DSN becomes the local server, `--dsn=...`
(any engine) is SQLite, scenario files the reader supplies are written first. A
command that cannot run here is listed in NOT_RUN with the reason; a new command in the
docs must either run or be listed there.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHIPPED = {
    "sqlite": REPO / "ddl" / "sqlite-event-store.ddl",
    "postgres": REPO / "ddl" / "postgres-event-store.ddl",
    "mariadb": REPO / "ddl" / "mariadb-event-store.ddl",
}
READERS_DDL = {"my.ddl", "FILE", "path/to/my-event-store.ddl", "my-event-store.ddl", "..."}
PROFILES = REPO / "tests" / "spec" / "profiles"
# A profile the docs name, and the test DDL of each engine spelled the way it says.
PROFILED_DDL = {"snake_case": PROFILES / "ddl" / "{engine}-snake-case.ddl"}
# A profile file the reader supplies: the tests' own profile and DDL of the engine.
READERS_PROFILE = {
    "sqlite": (PROFILES / "sqlite-append-view.yaml", PROFILES / "ddl" / "sqlite-append-view.ddl"),
    "postgres": (
        PROFILES / "postgres-append-function.yaml",
        PROFILES / "ddl" / "postgres-append-function.ddl",
    ),
}
NOT_RUN = {
    "pytest": "the kit's own test suite, of which this test is a part",
    "pytest -n 2": "a fragment of prose (parallel runs of any of the commands above)",
    "pytest --ddl=mssql-event-store.ddl --dsn=mssql://sa:pw@db/test": (
        "a third-party backend's example; tests/backends/ proves a registered backend runs"
    ),
}
ENV_PREFIX = re.compile(r"^[A-Z_]+=\S+$")
COMMENT = re.compile(r"\s+#\s.*$")
INLINE = re.compile(r"`(pytest(?: [^`]*)?)`")


@dataclass(frozen=True)
class Shown:
    where: str  # file:line
    command: str

    def __str__(self) -> str:
        return f"{self.where}: {self.command}"


def shown_commands() -> list[Shown]:
    found: list[Shown] = []
    for doc in DOCS:
        found += _commands_in(
            doc.name if doc.parent == REPO else f"docs/{doc.name}", doc.read_text()
        )
    return found


def _commands_in(name: str, text: str) -> list[Shown]:
    found, fence, folded, start, indent = [], None, None, 0, 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip().removeprefix("```")
            continue
        if folded is not None:  # the indented lines of a YAML `run: >`
            if line.strip() and len(line) - len(line.lstrip()) > indent:
                folded.append(line.strip())
                continue
            if folded and folded[0] == "pytest":
                found.append(Shown(f"{name}:{start}", " ".join(folded)))
            folded = None
        if fence == "yaml" and line.strip() == "run: >":
            folded, start, indent = [], number + 1, len(line) - len(line.lstrip())
        elif fence is not None and _is_pytest(line):
            found.append(Shown(f"{name}:{number}", COMMENT.sub("", line).strip()))
        elif fence is None:
            found += [Shown(f"{name}:{number}", m.group(1)) for m in INLINE.finditer(line)]
    return found


def _is_pytest(line: str) -> bool:
    words = line.split()
    while words and ENV_PREFIX.match(words[0]):
        words = words[1:]
    return bool(words) and words[0] == "pytest"


COMMANDS = shown_commands()


def test_the_docs_show_commands_and_every_one_is_run_or_excused() -> None:
    commands = {shown.command for shown in COMMANDS}
    assert len(COMMANDS) >= 20
    assert set(NOT_RUN) <= commands, "NOT_RUN names a command the docs no longer show"


def engine_of(dsn: str | None) -> str:
    if dsn is None or dsn == "..." or dsn.startswith("sqlite"):
        return "sqlite"
    if dsn.startswith(("mariadb:", "mysql:")):
        return "mariadb"
    if dsn.startswith(("postgres", "host=")):
        return "postgres"
    raise AssertionError(f"no mapping for the DSN {dsn!r}: add one to this test")


SERVER_FIXTURES = {"postgres": "pg_dsn", "mariadb": "mariadb_dsn"}


def _args_of(shown: Shown) -> list[str]:
    words = shlex.split(shown.command)
    while ENV_PREFIX.match(words[0]):
        words = words[1:]  # PGHOST=... PGUSER=...: the local server's DSN replaces them
    return words[1:]


def _dsn_of(shown: Shown) -> str | None:
    return next((a.split("=", 1)[1] for a in _args_of(shown) if a.startswith("--dsn=")), None)


def as_run(shown: Shown, request: pytest.FixtureRequest, folder: Path) -> list[str]:
    """The command's arguments with every placeholder mapped (see the module docstring)."""
    args = _args_of(shown)
    engine = engine_of(_dsn_of(shown))
    readers_ddl, profile = _ddl_for_profile(engine, args)
    mapped = []
    for arg in args:
        option, _, value = arg.partition("=")
        if option == "--ddl":
            arg = f"--ddl={readers_ddl if value in READERS_DDL else REPO / value}"
        elif option == "--profile" and profile is not None:
            arg = f"--profile={profile}"
        elif option == "--dsn":
            arg = _local_dsn(engine, value, request, folder)
            if arg is None:
                continue
        elif option == "--scenarios":
            _readers_scenarios(folder / value)
        mapped.append(arg)
    return mapped


def _ddl_for_profile(engine: str, args: list[str]) -> tuple[Path, Path | None]:
    """The DDL that stands for the reader's, spelled as the command's --profile says,
    and the profile file that stands for one the reader supplies."""
    profile = next((a.split("=", 1)[1] for a in args if a.startswith("--profile=")), None)
    if profile is None:
        return SHIPPED[engine], None
    if profile in PROFILED_DDL:
        return Path(str(PROFILED_DDL[profile]).format(engine=engine)), None
    profile_file, ddl = READERS_PROFILE[engine]
    return ddl, profile_file


def _local_dsn(engine: str, value: str, request: pytest.FixtureRequest, folder: Path) -> str | None:
    if engine == "postgres":
        return f"--dsn={request.getfixturevalue('pg_dsn')}"
    if engine == "mariadb":
        return f"--dsn={request.getfixturevalue('mariadb_dsn')}"
    if value.startswith("sqlite:///"):
        return f"--dsn=sqlite:///{folder / value.removeprefix('sqlite:///').lstrip('/')}"
    return None  # `--dsn=...`: SQLite, the default


def _readers_scenarios(path: Path) -> None:
    """A scenario file or folder of the reader's: a copy of a bundled file."""
    if path.exists():
        return
    target = path / "chain.yaml" if path.suffix not in (".yaml", ".yml") else path
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "scenarios" / "chain.yaml", target)


@pytest.mark.parametrize("shown", COMMANDS, ids=str)
def test_a_command_the_docs_show_runs_as_written(
    shown: Shown, request: pytest.FixtureRequest
) -> None:
    if shown.command in NOT_RUN:
        pytest.skip(f"not run: {NOT_RUN[shown.command]}")
    server = SERVER_FIXTURES.get(engine_of(_dsn_of(shown)))
    if server:  # before pytester, whose clean-up forgets modules imported after it starts
        request.getfixturevalue(server)
    pytester: pytest.Pytester = request.getfixturevalue("pytester")
    args = as_run(shown, request, pytester.path)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.OK, f"{shown} exits {result.ret}:\n{output[-3000:]}"
    if "--collect-only" not in args:
        assert re.search(r"^verdict: ", result.stdout.str(), re.MULTILINE), output[-3000:]
