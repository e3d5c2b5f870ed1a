"""`python -m sandbox …`: the same as `nexo-sandbox …`."""

import sys

from sandbox.cli import main

sys.exit(main())
