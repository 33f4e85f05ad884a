"""Plain transactions shared by the CLI, the flows and the tests (no Prefect, no scheduler)."""
