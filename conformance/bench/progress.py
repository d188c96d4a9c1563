"""Progress bars on the terminal (tqdm, on stderr), or nothing when turned off."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm


class Progress:
    def __init__(self, enabled: bool) -> None:
        # disable=None: tqdm shows bars only when stderr is a terminal.
        self.disable: bool | None = None if enabled else True

    def bar(self, label: str, total: int, unit: str) -> Any:
        return tqdm(
            total=total,
            desc=label,
            unit=unit,
            unit_scale=unit == "event",
            disable=self.disable,
            leave=False,
        )
