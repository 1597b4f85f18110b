"""Notices by e-mail and webhook: made in the caller's transaction (`queue.notify`), sent later (`sender`)."""
