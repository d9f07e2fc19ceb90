"""Datasets with Keras's ``load_data()`` signature.

``digits`` ships inside minikeras. The others (``mnist``, ``fashion_mnist``, ``cifar10``,
``cifar100``, ``imdb``, ``reuters``, ``boston_housing``) read Keras's own cache,
``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``, with Keras's file names and formats,
and download a missing file from the address Keras uses (see :mod:`.cache`).
"""
from . import (boston_housing, cache, cifar10, cifar100, digits, fashion_mnist,  # noqa: F401
               imdb, mnist, reuters)

__all__ = ["boston_housing", "cifar10", "cifar100", "digits", "fashion_mnist", "imdb",
           "mnist", "reuters"]
