"""yure (揺れ): a real-time disaster and earthquake information feed for Japan.

This package's own modules (the kernel) hold what every other package shares: the
root error, the one ``Settings``, logging, backoff and asyncio helpers. They import
none of the packages. The packages are top-level folders linked in as ``yure.<name>``
(``ingest``, ``geo``, ``broadcast``, ``safety_check``, ``web``, the command line
``commands``, …), as the design card lays them out.
"""

__version__ = "0.1.0"
