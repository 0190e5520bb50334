"""``python -m yure`` runs the command line (:mod:`yure.commands`, the CLI root).

This file is the entry point, not part of the kernel: it belongs with the CLI root and
is the one ``yure/*.py`` file that reaches it.
"""

import sys

from yure.commands import main

sys.exit(main())
