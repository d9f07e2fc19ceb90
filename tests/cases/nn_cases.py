"""Cases for minikeras/ops/nn.py."""
CASES = []
