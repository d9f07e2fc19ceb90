"""Image reshaping layers: UpSampling2D, ZeroPadding2D, Cropping2D."""
__all__ = []
