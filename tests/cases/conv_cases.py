"""Cases for minikeras/ops/conv.py."""
CASES = []
