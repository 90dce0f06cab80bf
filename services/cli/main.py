"""``tidings`` entry point. Each command lives in its own module with a ``register(subparsers)`` function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "services.cli.keys",
    "services.cli.ingest",
    "services.cli.search",
    "services.cli.tag",
    "services.cli.status",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="tidings", description="Tidings news platform command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
