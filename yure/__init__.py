"""yure (揺れ): a real-time disaster and earthquake information feed for Japan.

This package holds what every other package shares: the root error, the one
``Settings`` and the command line. The feature packages are top-level siblings
(``ingest``, ``geo``, ``broadcast``, ``safety_check``, ``web``), as the design card
lays them out.
"""

__version__ = "0.1.0"
