"""Recurrent layers: the RNN wrapper, SimpleRNN, LSTM, GRU and their cells."""
__all__ = []
