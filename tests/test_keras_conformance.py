"""Keras behaviour that courses meet every week, the same code run in both libraries: the
cases of tests/conformance_cases.py give the same numbers in minikeras as in real Keras 3
(JAX backend, in one subprocess for all cases)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minikeras
import conformance_cases

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def in_keras():
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, os.path.join(HERE, "conformance_cases.py")],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, JAX_PLATFORMS="cpu"))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("case", conformance_cases.CASES, ids=lambda c: c.__name__)
def test_same_numbers_as_keras(case, in_keras):
    ours = conformance_cases.to_plain(case(minikeras))
    theirs = in_keras[case.__name__]
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-5, err_msg=key)


def test_a_model_that_adds_its_own_loss_learns():
    assert conformance_cases.own_loss_subclassed(minikeras)["loss"][-1] < \
        conformance_cases.own_loss_subclassed(minikeras)["loss"][0]


def test_no_compiled_loss_and_no_added_loss_says_what_to_do():
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"No loss to compute\. Provide a `loss` argument in "
                                         r"`compile\(\)`, or add .*`self\.add_loss"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
