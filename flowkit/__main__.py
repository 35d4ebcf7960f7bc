"""``python -m flowkit``: the ``flowkit`` command."""

import sys

from flowkit.cli import main

sys.exit(main())
