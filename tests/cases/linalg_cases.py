"""Cases for minikeras/ops/linalg.py."""
CASES = []
