"""Cases for minikeras/ops/shape.py."""
CASES = []
