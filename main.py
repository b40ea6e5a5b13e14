"""Epoch Lab: ``python main.py`` opens the window; ``python main.py train|predict ...``
runs the headless command line (see README.md)."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
