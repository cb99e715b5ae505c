"""`python -m kerasfix.server ...` is the `kerasfix` command."""

import sys

from .cli import main

sys.exit(main())
