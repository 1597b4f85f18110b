"""Backups of the database (`mamori backup`, `mamori restore`) and which of them to keep."""
