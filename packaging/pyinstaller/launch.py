"""The bundle's entry point: the `gradstudio` command."""

import sys

from gradstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
