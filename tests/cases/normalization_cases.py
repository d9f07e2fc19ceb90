"""Cases for minikeras/ops/normalization.py."""
CASES = []
