"""mamori server: scans in, ledgers and alerts out."""

__version__ = "0.1.0"
