"""Layer wrappers: Bidirectional, TimeDistributed."""
__all__ = []
