"""`python -m evalcore ...`: see evalcore.cli."""

import sys

from evalcore.cli import main

sys.exit(main())
