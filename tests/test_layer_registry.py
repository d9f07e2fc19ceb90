"""The layer registry: every layer class minikeras exports has a float64 gradient case, a
Keras-oracle case and a save/load round-trip case, judged by what the cases really run.

The cases live beside their tests: ``GRADIENT_CASES`` in tests/test_layer_gradients.py,
``oracle_cases()`` in tests/test_keras_oracle.py, ``CASES`` and ``SAFE_MODE_OFF`` in
tests/test_saving_interop.py. Here each case's minikeras half is run once under
``recording_layers()`` (tests/execution.py), which records the layer classes created and the
ones whose ``call`` ran; a class counts for a kind of case only if one of them ran it (for a
round trip: created it, as a file holds every layer of the model, run or not).
"""
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras
from minikeras import layers

from execution import recording_layers
from test_keras_oracle import oracle_cases
from test_layer_gradients import GRADIENT_CASES
from test_saving_interop import CASES as ROUND_TRIP_CASES
from test_saving_interop import SAFE_MODE_OFF

KINDS = ("gradient", "oracle", "round trip")

# The only layer classes allowed to lack a kind of case, each with the reason.
ALLOWED = {
    ("InputLayer", "gradient"): "it computes nothing: it declares the shape and dtype of a "
                                "model's input, and no call of it runs on data",
    ("InputLayer", "oracle"): "the same: it has no output to compare (every Sequential with "
                              "an Input of the round-trip cases saves and loads one)",
    **{(base, kind): "an abstract base class: cases run its subclasses"
       for base in ("Layer", "Wrapper") for kind in KINDS},
}


def exported_layer_classes():
    """The layer classes of ``minikeras.layers.__all__``, one name per class (the class's
    own: MaxPool2D is MaxPooling2D)."""
    found = {}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if inspect.isclass(obj) and issubclass(obj, layers.Layer):
            found[obj.__name__] = obj
    return found


def _gradient_record(case):
    """Run a gradient case's layer on one fixed draw of its inputs (the forward pass)."""
    with recording_layers() as record:
        @settings(max_examples=1, derandomize=True, database=None, deadline=None)
        @given(data=st.data())
        def run(data):
            layer, inputs, training = case(data.draw)
            layer(*[minikeras.Tensor(x) for x in inputs], training=training)
        run()
    return record


def _oracle_record(case):
    make, data, training, kwargs = case
    with recording_layers() as record:
        make(minikeras)(data(), training=training, **kwargs)
    return record


def _round_trip_record(case):
    make, data = case
    with recording_layers() as record:
        make(minikeras)(data())
    return record


_COVERED = {}


def covered():
    """kind -> {layer class name: the names of the cases that ran it} (computed once)."""
    if not _COVERED:
        runs = {
            "gradient": ({n: _gradient_record(c) for n, c in GRADIENT_CASES.items()}, "ran"),
            "oracle": ({n: _oracle_record(c) for n, c in oracle_cases().items()}, "ran"),
            "round trip": ({n: _round_trip_record(c)
                            for n, c in {**ROUND_TRIP_CASES, **SAFE_MODE_OFF}.items()}, "made"),
        }
        for kind, (records, what) in runs.items():
            seen = {}
            for case, record in records.items():
                for cls in getattr(record, what):
                    seen.setdefault(cls.__name__, []).append(case)
            _COVERED[kind] = seen
    return _COVERED


def missing(kind):
    exported = exported_layer_classes()
    seen = covered()[kind]
    return sorted(name for name, cls in exported.items()
                  if (name, kind) not in ALLOWED and name not in seen)


@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_class_has_a_case_of_each_kind(kind):
    absent = missing(kind)
    assert not absent, (f"layer classes that no {kind} case runs: {absent}. Add a case "
                        f"that builds and calls them (see this file's docstring for where "
                        f"the cases live), or, if they cannot have one, an entry in ALLOWED "
                        f"saying why.")


def test_allowed_entries_are_needed():
    """An allowed class that a case does cover (or that is no longer exported) is an entry
    to take out."""
    exported = exported_layer_classes()
    stale = sorted((name, kind) for name, kind in ALLOWED
                   if name not in exported or name in covered()[kind])
    assert not stale, f"ALLOWED entries no longer needed: {stale}"


def test_recorder_sees_inner_layers_and_only_what_ran():
    model = minikeras.Sequential([minikeras.Input((4, 2)),
                                  layers.TimeDistributed(layers.Dense(3)), layers.Dropout(0.5)])
    with recording_layers() as record:
        model(minikeras.ops.ones((1, 4, 2)))
        layers.Conv2D(2, 3)  # created, never called
    assert {layers.TimeDistributed, layers.Dense, layers.Dropout} <= set(record.ran)
    assert layers.Conv2D in record.made and layers.Conv2D not in record.ran
    assert layers.Dense not in record.made  # made before the block
    # after the block the methods are the classes' own again
    assert not hasattr(layers.Dense.call, "__wrapped__")
    assert not hasattr(layers.Layer.__init__, "__wrapped__")


def test_counts_are_reported(capsys):
    exported = exported_layer_classes()
    checked = set(covered()["gradient"]) & set(exported)
    with capsys.disabled():
        print(f"\nlayer classes exported: {len(exported)}; gradient-checked: {len(checked)}; "
              f"oracle: {len(set(covered()['oracle']) & set(exported))}; round trip: "
              f"{len(set(covered()['round trip']) & set(exported))}")
    assert len(checked) == len(exported) - sum(1 for (_, kind) in ALLOWED if kind == "gradient")


def test_a_class_without_a_case_is_named(monkeypatch):
    full = covered()["gradient"]
    monkeypatch.setitem(_COVERED, "gradient", {k: v for k, v in full.items() if k != "Dot"})
    assert missing("gradient") == ["Dot"]
    with pytest.raises(AssertionError, match=r"no gradient case runs: \['Dot'\]\. Add a case"):
        test_every_layer_class_has_a_case_of_each_kind("gradient")
