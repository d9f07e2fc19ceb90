"""Every differentiable op states its rule in one machine-readable ``Rule:`` line (the form
is in ``autograd.Function``'s docstring), naming its inputs as its ``forward`` does; the
backward cards and the stepper read that line."""
import inspect
import re

import pytest

import minikeras  # noqa: F401  (fills the registry)
from minikeras.autograd import REGISTRY, Function
from minikeras.debug.steps import rule_of, rule_terms


def _ops(differentiable):
    return sorted(name for name, cls in REGISTRY.items()
                  if cls.__module__.startswith("minikeras.") and cls.differentiable == differentiable
                  and (cls.backward is not Function.backward or not differentiable))


DIFFERENTIABLE = _ops(True)


def _positional(cls):
    """The names of forward's fixed inputs, and the name of its *args (or None)."""
    params = list(inspect.signature(cls.forward).parameters.values())[1:]
    fixed = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    var = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    return fixed, var


def test_the_registry_holds_the_ops():
    assert {"Add", "MatMul", "Conv", "LstmSequence", "SparseSoftmaxCrossEntropy"} <= set(DIFFERENTIABLE)
    assert len(DIFFERENTIABLE) > 70


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_every_differentiable_op_has_one_rule_line_naming_its_inputs(name):
    cls = REGISTRY[name]
    terms = rule_terms(cls)                     # one line, every term dL/d<name> = <formula>
    names = [n for n, _ in terms]
    fixed, var = _positional(cls)
    assert names[:len(fixed)] == fixed, f"{name}: rule names {names}, forward takes {fixed}"
    if var is None:
        assert len(names) == len(fixed), f"{name}: rule names {names}, forward takes {fixed}"
    else:
        assert len(names) > len(fixed), f"{name}: the rule names none of *{var}"
    upstream = "h" if "g" in fixed else "g"
    assert any(re.search(rf"\b{upstream}\d?\b", f) for _, f in terms), \
        f"{name}: no term uses the upstream gradient {upstream}"
    assert rule_of(cls) == inspect.getdoc(cls).split("Rule: ")[1].splitlines()[0]


@pytest.mark.parametrize("name", _ops(False))
def test_ops_that_are_not_differentiable_have_no_rule_line(name):
    assert "Rule:" not in (inspect.getdoc(REGISTRY[name]) or "")


class _NoRuleHere(Function):
    """y = 2x, with the derivative in words only."""


class _TwoRulesHere(Function):
    """y = 2x.

    Rule: dL/dx = 2 · g
    Rule: dL/dx = g · 2
    """


class _BadRuleHere(Function):
    """y = 2x.

    Rule: dx = 2 · g
    """


def test_a_missing_doubled_or_malformed_rule_line_is_named():
    with pytest.raises(ValueError, match=r"_NoRuleHere: expected one 'Rule:' line.*found 0.*Add one"):
        rule_terms(_NoRuleHere)
    with pytest.raises(ValueError, match=r"_TwoRulesHere: expected one 'Rule:' line.*found 2"):
        rule_terms(_TwoRulesHere)
    with pytest.raises(ValueError, match=r"_BadRuleHere: the rule term 'dx = 2 · g' is not of the form"):
        rule_terms(_BadRuleHere)
    assert rule_of(_NoRuleHere) == "y = 2x, with the derivative in words only."   # falls back
    assert rule_terms(REGISTRY["Multiply"]) == [("x", "unbroadcast(g · y, x)"),
                                                ("y", "unbroadcast(g · x, y)")]
