"""``python -m ocppkit.toolkit.gateway [flags]``: the same as ``ocppkit bridge [flags]``."""

from __future__ import annotations

import sys

from ocppkit.toolkit.commands.bridge import bridge_app
from ocppkit.translators.errors import OcppkitError


def main() -> None:
    try:
        bridge_app(prog_name="python -m ocppkit.toolkit.gateway")
    except OcppkitError as exc:
        print(f"ocppkit: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
