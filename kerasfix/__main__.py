"""`python -m kerasfix ...` is the `kerasfix` command."""

import sys

from kerasfix.server.cli import main

sys.exit(main())
