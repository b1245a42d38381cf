"""Independent re-implementations of the written specs, used as differential-testing oracles."""
