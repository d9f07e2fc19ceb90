"""Cases for minikeras/ops/recurrent.py."""
CASES = []
