"""Write the .keras files of this folder with real Keras 3 on each backend (run once, by
hand: ``python make_files.py torch`` and ``python make_files.py jax``; the test suite only
reads the files). Keras on torch records its optimizers under backend modules such as
``keras.src.backend.torch.optimizers.torch_adam``; these files check that minikeras reads
them. Beside each file, Keras's own evaluation of the saved model and the loss of one more
training step, for the test to compare with."""
import json
import os
import sys

backend = sys.argv[1]
os.environ["KERAS_BACKEND"] = backend
import numpy as np  # noqa: E402
import keras  # noqa: E402

keras.utils.set_random_seed(0)
data = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.npz"))
x, y = data["x"], data["y"]
results = {}
for optimizer in ["adam", "sgd"]:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    name = f"{backend}_{optimizer}"
    model.save(f"{name}.keras")
    results[name] = {"keras": keras.__version__,
                     "evaluate": [float(v) for v in model.evaluate(x, y, verbose=0)],
                     "next_loss": float(model.train_on_batch(x[:8], y[:8])[0])}
path = "expected.json"
expected = json.load(open(path)) if os.path.exists(path) else {}
expected.update(results)
json.dump(expected, open(path, "w"), indent=1, sort_keys=True)
