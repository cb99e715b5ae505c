"""`python -m kerasfix.server ...` is the `kerasfix` command."""

import sys

from .entry import main

sys.exit(main())
