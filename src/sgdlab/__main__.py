"""``python -m sgdlab`` and the ``sgdlab`` console script.

``import sgdlab`` loads nothing heavy (its names load on first use), so Ctrl-C while the command
modules load is caught here with the same promise as during a run: ``interrupted``, exit 130.
"""

import sys


def run() -> None:
    """Load the CLI and run it; Ctrl-C at any point ends with ``interrupted`` and exit code 130."""
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
