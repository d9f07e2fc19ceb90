"""Run the official Keras guides (keras-io's ``guides/*.py``), unchanged, in real Keras and in
minikeras, offline, and report which pass.

    python tools/run_keras_guides.py GUIDES_DIR [--only NAME,...] [--library minikeras,keras]
                                     [--minikeras CHECKOUT] [--timeout S] [--json OUT]

``GUIDES_DIR`` is a folder of guide scripts (``guides/`` of a keras-io checkout). Each guide
runs in a fresh interpreter, once per library:

* ``keras``: real Keras 3 on its torch backend (``KERAS_BACKEND=torch``);
* ``minikeras``: the same file with ``keras`` naming minikeras (``sys.modules["keras"]`` and
  its submodules ``keras.layers``, ``keras.ops``... are minikeras's); ``--minikeras`` picks
  the checkout to import (the default is this one), to compare before and after a change.

The guides' text is not changed. What the runner provides around it, the same for both
libraries:

* offline data: ``keras.datasets.<name>.load_data`` returns random arrays of the real shapes,
  dtypes and counts (MNIST 60,000 x 28 x 28 uint8, labels 0-9, and so on), so nothing is
  downloaded; the numbers a guide prints are therefore not the guide's;
* pretrained weights: ``keras.applications.<Model>(weights="imagenet")`` builds the model
  with ``weights=None`` (random weights), since the ImageNet files cannot be downloaded;
* ``keras_core`` (the name of Keras 3 before its release, which the Keras Core guides
  import) names the same library as ``keras``;
* ``MPLBACKEND=Agg``, so figures are drawn to memory, and a temporary working folder, so
  files the guides save go there.

A guide passes when it runs to its end with exit status 0. The report gives, per guide and
library, pass or the last line of the error and the line of the guide it came from. Guides
that need TensorFlow (``import tensorflow``, ``tf.data``) need it installed in the
interpreter that runs this script, for both libraries.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Shapes and dtypes of Keras's datasets: (x_train, y_train, x_test, y_test), each (shape, dtype,
# upper bound of the random integers).
# Keras's datasets as (x_train, y_train, x_test, y_test), each (shape of one sample, dtype,
# upper bound of the random integers or None for normal floats), and the real sample counts.
_SAMPLES = {
    "mnist": ((28, 28), (), 10, 60000, 10000),
    "fashion_mnist": ((28, 28), (), 10, 60000, 10000),
    "cifar10": ((32, 32, 3), (1,), 10, 50000, 10000),
    "cifar100": ((32, 32, 3), (1,), 100, 50000, 10000),
}
#: The offline datasets hold the real count divided by this (``--shrink``; 1 by default,
#: since guides write the counts out, e.g. ``reshape(60000, 784)``).
SHRINK = 1


def datasets(shrink=SHRINK):
    out = {}
    for name, (x_shape, y_shape, classes, n_train, n_test) in _SAMPLES.items():
        n_train, n_test = n_train // shrink, n_test // shrink
        out[name] = (((n_train,) + x_shape, "uint8", 256), ((n_train,) + y_shape, "uint8", classes),
                     ((n_test,) + x_shape, "uint8", 256), ((n_test,) + y_shape, "uint8", classes))
    out["boston_housing"] = (((404, 13), "float64", None), ((404,), "float64", None),
                             ((102, 13), "float64", None), ((102,), "float64", None))
    return out


# Runs first in the guide's interpreter: picks the library, installs the offline data, then
# runs the guide as __main__.
_PRELUDE = r"""
import os, sys, runpy, types, importlib
import numpy as np
library, guide, datasets = sys.argv[1], sys.argv[2], __import__("json").loads(sys.argv[3])
if library == "minikeras":
    import minikeras
    sys.modules["keras"] = minikeras
    for name in dir(minikeras):
        value = getattr(minikeras, name)
        if isinstance(value, types.ModuleType) and value.__name__.startswith("minikeras."):
            sys.modules["keras." + name] = value
            for sub in dir(value):
                subvalue = getattr(value, sub)
                if isinstance(subvalue, types.ModuleType) and \
                        subvalue.__name__.startswith(value.__name__ + "."):
                    sys.modules.setdefault("keras." + name + "." + sub, subvalue)
import keras
# The Keras Core guides (2023) import keras_core, Keras 3's name before its release.
sys.modules["keras_core"] = keras
for _name, _module in list(sys.modules.items()):
    if _name.startswith("keras.") and _module is not None:
        sys.modules.setdefault("keras_core" + _name[5:], _module)

def _offline(name, spec):
    def load_data(*args, **kwargs):
        rng = np.random.default_rng(0)
        arrays = []
        for shape, dtype, high in spec:
            if high is None:
                arrays.append(rng.standard_normal(shape).astype(dtype))
            else:
                arrays.append(rng.integers(0, high, size=shape).astype(dtype))
        return (arrays[0], arrays[1]), (arrays[2], arrays[3])
    load_data.__doc__ = f"offline {name}: random arrays of the real shapes"
    return load_data

for name, spec in datasets.items():
    module = getattr(keras.datasets, name, None)
    if module is None:
        try:
            module = importlib.import_module("keras.datasets." + name)
        except ImportError:
            continue
    module.load_data = _offline(name, spec)
applications = getattr(keras, "applications", None)
if applications is not None:
    import functools
    for name in dir(applications):
        builder = getattr(applications, name)
        if name[:1].isupper() and callable(builder):
            def offline_builder(*args, _builder=builder, **kwargs):
                kwargs["weights"] = None
                return _builder(*args, **kwargs)
            setattr(applications, name, functools.wraps(builder)(offline_builder))
sys.argv = [guide]
runpy.run_path(guide, run_name="__main__")
"""


def run_guide(guide, library, minikeras_root, timeout, shrink=SHRINK):
    env = dict(os.environ, MPLBACKEND="Agg", KERAS_BACKEND="torch", OPENBLAS_NUM_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    if library == "minikeras":
        env["PYTHONPATH"] = minikeras_root + os.pathsep + env.get("PYTHONPATH", "")
        env["MINIKERAS_BACKEND"] = "numpy"
    work = tempfile.mkdtemp(prefix="guide-")
    start = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-c", _PRELUDE, library, os.path.abspath(guide),
                            json.dumps(datasets(shrink))], cwd=work, env=env, capture_output=True,
                           text=True, timeout=timeout)
        code, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired as e:
        code, err = "timeout", (e.stderr or b"").decode(errors="replace") if isinstance(
            e.stderr, bytes) else (e.stderr or "")
    seconds = time.perf_counter() - start
    result = {"guide": os.path.basename(guide), "library": library, "passed": code == 0,
              "seconds": round(seconds, 1)}
    if code != 0:
        result["error"] = _last_error(err) if code != "timeout" else f"timed out after {timeout} s"
        result["guide_line"] = _guide_line(err, guide)
    return result


def _last_error(stderr):
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", lines[i]):
            return lines[i][:400]
    return (lines[-1] if lines else "no output")[:400]


def _guide_line(stderr, guide):
    name = os.path.basename(guide)
    found = re.findall(r'File "([^"]*' + re.escape(name) + r')", line (\d+)', stderr)
    return int(found[-1][1]) if found else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("guides")
    p.add_argument("--only", default="", help="comma-separated guide names (without .py)")
    p.add_argument("--library", default="keras,minikeras")
    p.add_argument("--minikeras", default=ROOT, help="the checkout of minikeras to import")
    p.add_argument("--timeout", type=int, default=900)
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--shrink", type=int, default=SHRINK,
                   help="divide the datasets' sample counts by this")
    args = p.parse_args(argv)
    names = sorted(f[:-3] for f in os.listdir(args.guides) if f.endswith(".py"))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    results = []
    for name in names:
        for library in args.library.split(","):
            r = run_guide(os.path.join(args.guides, name + ".py"), library,
                          os.path.abspath(args.minikeras), args.timeout, args.shrink)
            results.append(r)
            status = "pass" if r["passed"] else f"FAIL line {r['guide_line']}: {r['error']}"
            print(f"{name:48s} {library:10s} {r['seconds']:7.1f}s  {status}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
