"""Command line for suites written in other languages.

    python -m bitfox_ref compile < program.teal
        prints go-algorand's bytecode (base64) and exits 0, or its errors on
        stderr and exits 1.
"""

from __future__ import annotations

import sys

from .jig import AssembleError, compile_teal


def main(argv: list[str]) -> int:
    if argv[1:2] != ["compile"]:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(compile_teal(sys.stdin.read()).b64)
    except AssembleError as error:
        print(error, file=sys.stderr, end="")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
