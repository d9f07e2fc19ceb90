"""Placeholder."""

def set_random_seed(seed):
    raise NotImplementedError
