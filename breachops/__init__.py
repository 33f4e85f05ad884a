"""breachops: breach response and incident drill orchestration for parties sharing confidential know-how."""

__version__ = "0.1.0"
