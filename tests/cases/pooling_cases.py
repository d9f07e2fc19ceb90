"""Cases for minikeras/ops/pooling.py."""
CASES = []
