"""Fused recurrent sequence ops (LSTM, GRU) with a hand-written backward through time."""
__all__ = []
