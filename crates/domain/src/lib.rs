//! Pure loyalty rules (no I/O): program configuration, quotes, tiers, lots.
