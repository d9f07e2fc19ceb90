"""Noise and dropout layers: SpatialDropout1D/2D, GaussianNoise, GaussianDropout."""
__all__ = []
