"""Fused recurrent kernels: whole-sequence LSTM and GRU, forward and backward."""
__all__ = []
