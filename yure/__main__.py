"""``python -m yure`` runs the command line."""

import sys

from yure.cli import main

sys.exit(main())
