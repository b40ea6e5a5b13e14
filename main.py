"""Epoch Lab: ``python main.py`` opens the window; ``python main.py train|predict ...``
runs the headless command line (see README.md and app/main.py for which runs when)."""

import sys

if __name__ == "__main__":
    try:
        from app.main import main
    except KeyboardInterrupt:  # Ctrl-C before even the dispatcher is imported: no traceback
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
