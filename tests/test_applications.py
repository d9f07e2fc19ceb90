"""keras.applications.VGG16/VGG19 against real Keras 3 (NumPy backend): the same layers with the
same names and weight shapes, the same outputs from the same weights, and Keras 2 ``.h5``
weights files (what Keras's pretrained ImageNet files are) written by Keras and loaded here."""
import h5py
import numpy as np
import pytest
from keras_reference import keras

import minikeras


@pytest.mark.parametrize("name", ["VGG16", "VGG19"])
def test_vgg_has_keras_layers_and_computes_keras_outputs(name):
    theirs = getattr(keras.applications, name)(weights=None, include_top=False,
                                               input_shape=(32, 32, 3), pooling="avg")
    ours = getattr(minikeras.applications, name)(weights=None, include_top=False,
                                                 input_shape=(32, 32, 3), pooling="avg")
    assert [layer.name for layer in ours.layers][1:-1] == [l.name for l in theirs.layers][1:-1]
    assert ours.name == theirs.name == name.lower()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, np.sqrt(2 / np.prod(w.shape[:-1])) if w.ndim > 1 else 0.01,
                          w.shape).astype("float32") for w in ours.get_weights()]   # He scale
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = rng.uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert np.abs(want).max() > 0.1                     # the signal went through 13-16 layers
    # float32 sums in another order through 13-16 layers: compared norm-wise
    assert np.linalg.norm(got - want) <= 1e-5 * np.linalg.norm(want)


def test_the_full_vgg19_graph_is_keras_s():
    ours = minikeras.applications.VGG19(weights=None)
    assert ours.input.shape == (None, 224, 224, 3) and ours.output.shape == (None, 1000)
    assert [layer.name for layer in ours.layers][-4:] == ["flatten", "fc1", "fc2", "predictions"]
    assert ours.count_params() == 143_667_240           # as Keras's summary says


def test_keras2_h5_weights_written_by_keras_load_by_layer_order(tmp_path):
    theirs = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16.h5")
    theirs.save(path)                                   # Keras's legacy HDF5 format
    with h5py.File(path, "r") as f:
        assert "layer_names" in f["model_weights"].attrs
    ours = minikeras.applications.VGG16(weights=path, include_top=False, input_shape=(32, 32, 3))
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_a_keras2_file_of_another_model_loads_nothing_and_says_why(tmp_path):
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1"),
                              keras.layers.Dense(2, name="d2")])
    path = str(tmp_path / "small.h5")
    small.save(path)
    ours = minikeras.Sequential([minikeras.Input((4,)), minikeras.layers.Dense(3),
                                 minikeras.layers.Dense(5)])
    before = [w.copy() for w in ours.get_weights()]
    with pytest.raises(ValueError, match=r"layer 'dense_\d+' of the model has weights of shapes "
                                         r"\[\(3, 5\), \(5,\)\], but the file's layer 'd2' has "
                                         r"\[\(3, 2\), \(2,\)\]; nothing was loaded"):
        ours.load_weights(path)
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    one = minikeras.Sequential([minikeras.Input((4,)), minikeras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"the file holds weights for 2 layers, the model "
                                         r"'sequential\w*' has 1 layers with weights"):
        one.load_weights(path)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match=r"broken\.h5 is not a readable HDF5 file"):
        one.load_weights(str(broken))


def test_bad_arguments_get_keras_s_errors():
    with pytest.raises(ValueError, match=r"`classes` should be 1000. Received classes=10"):
        minikeras.applications.VGG19(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match=r"`input_shape` should be \(224, 224, 3\)"):
        minikeras.applications.VGG16(weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match=r"pooling must be None, 'avg' or 'max'; got 'mean'"):
        minikeras.applications.VGG16(weights=None, include_top=False, pooling="mean")


def test_preprocess_input_is_keras_s_caffe_mode():
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(minikeras.applications.vgg19.preprocess_input(x),
                               keras.applications.vgg19.preprocess_input(x.copy()), rtol=1e-6)
