"""Convolutions under the names of ``keras.ops``: conv, conv_transpose, depthwise_conv, separable_conv."""
__all__ = []
