"""`python -m kerasfix ...` is the `kerasfix` command."""

import sys

from kerasfix.server.entry import main

sys.exit(main())
