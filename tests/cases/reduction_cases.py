"""Cases for minikeras/ops/reduction.py."""
CASES = []
