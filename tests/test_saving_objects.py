"""Every loss, metric, optimizer, schedule, initializer, regularizer and constraint class
that minikeras exports survives serialize_keras_object -> deserialize_keras_object with the
same class and the same config (what .keras files and model_from_json rely on)."""
import inspect

import pytest

import minikeras as keras
from minikeras.saving import deserialize_keras_object, serialize_keras_object
from minikeras.saving.serialization import model_class

# Abstract bases, and wrappers that take a function rather than settings.
BASES = {"Loss", "LossFunctionWrapper", "Metric", "MeanMetricWrapper", "Optimizer",
         "LearningRateSchedule", "Initializer", "Regularizer", "Constraint"}
# Classes without defaults for every argument: settings that differ from any default.
ARGS = {
    "ExponentialDecay": dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5,
                             staircase=True),
    "PiecewiseConstantDecay": dict(boundaries=[3, 9], values=[0.3, 0.2, 0.1]),
    "PolynomialDecay": dict(initial_learning_rate=0.1, decay_steps=5, power=2.0, cycle=True),
    "InverseTimeDecay": dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.3),
    "CosineDecay": dict(initial_learning_rate=0.1, decay_steps=11, alpha=0.1,
                        warmup_target=0.2, warmup_steps=3),
    "CosineDecayRestarts": dict(initial_learning_rate=0.1, first_decay_steps=6, t_mul=3.0),
}


def _classes():
    modules = [keras.losses, keras.metrics, keras.optimizers, keras.optimizers.schedules,
               keras.initializers, keras.regularizers, keras.constraints]
    found = {}
    for module in modules:
        for name in getattr(module, "__all__", dir(module)):
            cls = getattr(module, name, None)
            if inspect.isclass(cls) and name not in BASES and cls.__name__ == name:
                found[f"{module.__name__.split('.')[-1]}.{name}"] = cls
    return found


CLASSES = _classes()


def test_the_registry_is_not_empty():
    assert len(CLASSES) > 80, sorted(CLASSES)


@pytest.mark.parametrize("key", sorted(CLASSES))
def test_round_trip(key):
    cls = CLASSES[key]
    obj = cls(**ARGS.get(cls.__name__, {}))
    config = serialize_keras_object(obj)
    assert config["class_name"] == cls.__name__ and "module" in config
    again = deserialize_keras_object(config)
    assert type(again) is cls
    assert again.get_config() == obj.get_config()


def test_a_whole_model_survives_serialize_keras_object():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    model.compile(optimizer="adam", loss="mse")
    config = serialize_keras_object(model)
    assert config["class_name"] == "Sequential" and config["compile_config"]["loss"] == "mse"
    again = deserialize_keras_object(config)
    assert type(again) is keras.Sequential and again.compiled
    assert [w.shape for w in again.weights] == [w.shape for w in model.weights]
    nested = deserialize_keras_object(serialize_keras_object({"models": [model]}))
    assert type(nested["models"][0]) is keras.Sequential


def test_model_class_names_the_missing_class():
    assert model_class("Functional") is keras.models.Functional
    with pytest.raises(LookupError, match="No model class 'Dense' in minikeras.models: "
                                          "expected one of Model, Functional, Sequential"):
        model_class("Dense")
