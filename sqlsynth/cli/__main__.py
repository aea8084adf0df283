"""``python -m sqlsynth.cli``."""

import sys

from sqlsynth.cli.app import main

sys.exit(main())
