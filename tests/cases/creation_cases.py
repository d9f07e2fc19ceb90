"""Cases for minikeras/ops/creation.py."""
CASES = []
