"""Developer scripts (data builders); not part of the installed distribution."""
