"""Command groups of the CLI; `breachops/cli.py` assembles them."""
