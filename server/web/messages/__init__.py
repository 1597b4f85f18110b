"""Each feature's page words, `MESSAGES = {key: (日本語, English)}` in a module of this package."""
