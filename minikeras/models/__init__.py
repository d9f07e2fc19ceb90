"""``minikeras.models``: Model (functional and subclassed) and Sequential."""
from .model import Functional, Model  # noqa: F401
from .sequential import Sequential  # noqa: F401

__all__ = ["Functional", "Model", "Sequential"]
