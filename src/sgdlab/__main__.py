import sys

try:
    from .cli import main
except KeyboardInterrupt:           # Ctrl-C while the command modules load: same promise as during a run
    print("interrupted", file=sys.stderr)
    sys.exit(130)

main()
