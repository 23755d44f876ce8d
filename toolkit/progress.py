"""Progress bars on stderr: shown on a terminal, or when asked for, never in pipes by default.

``enabled`` is tri-state, as ``--progress/--no-progress`` options give it:
None (the default) shows the bar only when stderr is a terminal; True shows
it anyway (a log file wants it); False never does.
"""

from __future__ import annotations

import sys
from typing import Any


def shown(enabled: bool | None) -> bool:
    """Whether a bar with this setting is drawn now."""
    if enabled is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return enabled


class Bar:
    """A tqdm bar on stderr that callbacks can drive: ``update(done, total)``.

    Args:
        desc: the bar's label.
        unit: what is counted.
        enabled: see the module doc.
    """

    def __init__(self, desc: str, unit: str = "it", enabled: bool | None = None) -> None:
        self.desc, self.unit, self.enabled = desc, unit, shown(enabled)
        self._bar: Any = None

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total`` finished (absolute counts)."""
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, leave=False,
                             file=sys.stderr, disable=False)  # fmt: skip
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
