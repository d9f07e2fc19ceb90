"""Convolution kernels: im2col/col2im and the convolutions built on them."""
__all__ = []
