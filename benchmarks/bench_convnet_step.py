"""W2: one training step of the Keras MNIST convnet, minikeras against PyTorch and a NumPy floor.

The network takes 28x28x1 images (channels_last) through Conv2D(32, 3x3, ReLU),
MaxPooling2D(2), Conv2D(64, 3x3, ReLU), MaxPooling2D(2), Flatten and Dense(10) (logits);
the loss is softmax cross-entropy of the logits against integer labels (mean over the
batch), the batch is 128, everything is float32 and the optimizer is plain SGD with
learning rate 0.01. One step is forward + backward + update. The variants:

  minikeras     keras.Sequential([keras.Input((28, 28, 1)), Conv2D(32, (3, 3), "relu"),
                MaxPooling2D((2, 2)), Conv2D(64, (3, 3), "relu"), MaxPooling2D((2, 2)),
                Flatten(), Dense(10)]) compiled with SGD(0.01) and
                SparseCategoricalCrossentropy(from_logits=True), model.train_on_batch(x, y)
  torch         PyTorch eager, NCHW: nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten,
                nn.Linear, nn.CrossEntropyLoss, torch.optim.SGD
  numpy floor   the step by hand: im2col + one GEMM per convolution with bias and ReLU
                fused in place, max pooling from four strided views, the pooling backward
                with the ReLU mask fused in, col2im as nine strided slice adds, and the
                first layer's columns (one channel) built K-major from nine slice copies

Before any timing, all of them start from the same weights and data, and the loss and the
six gradients must agree with the floor (norm-wise relative error < 1e-4). Then an untimed
pass measures the peak memory that one step allocates (tracemalloc), then the variants are
timed interleaved.

Targets (the W2 issue): minikeras within 1.5x of PyTorch, and the peak memory of its step
at most 2x the floor's. cpu-performance.md suggests at most 1.3x the floor.

Run from the repository root:  python benchmarks/bench_convnet_step.py [--rounds 10] [--threads 2]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):  # measure the minikeras of this checkout; find common.py
    if p not in sys.path:
        sys.path.insert(0, p)

import common  # noqa: E402  (common imports no NumPy)

if __name__ == "__main__":
    common.preset_blas_threads(sys.argv[1:])  # before NumPy loads

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402

try:
    import minikeras
    import minikeras as keras
    MK_IMPORT_ERROR = None
except Exception as e:  # noqa: BLE001  (the package may be mid-edit)
    minikeras = keras = None
    MK_IMPORT_ERROR = f"{type(e).__name__}: {e}"

BATCH = 128
SIDE = 28
K = 3                        # kernel side of both convolutions
FILTERS = (32, 64)
CLASSES = 10
LR = 0.01
TOLERANCE = 1e-4             # norm-wise relative error of loss and gradients, against the floor
TARGET_VS_TORCH = 1.5        # minikeras / torch, at most
TARGET_VS_FLOOR = 1.3        # minikeras / numpy floor, at most (cpu-performance.md)
TARGET_MEMORY = 2.0          # peak memory of a minikeras step / the floor's, at most
PARAM_NAMES = ("conv1 kernel", "conv1 bias", "conv2 kernel", "conv2 bias", "dense kernel",
               "dense bias")
LAYERS_NEEDED = ("Conv2D", "MaxPooling2D", "Flatten", "Dense")


def shapes():
    """The spatial sides after conv1, pool1, conv2, pool2: 26, 13, 11, 5."""
    c1 = SIDE - K + 1
    p1 = c1 // 2
    c2 = p1 - K + 1
    return c1, p1, c2, c2 // 2


def step_flops():
    """Multiply-adds x 2 of one step: forward and dW of every layer, dX of all but the first
    (conv1's input needs no gradient)."""
    c1, p1, c2, p2 = shapes()
    conv1 = 2 * BATCH * c1 * c1 * K * K * 1 * FILTERS[0]
    conv2 = 2 * BATCH * c2 * c2 * K * K * FILTERS[0] * FILTERS[1]
    dense = 2 * BATCH * p2 * p2 * FILTERS[1] * CLASSES
    return 2 * (conv1 + conv2 + dense) + conv2 + dense


# --------------------------------------------------------------------------- data, weights
def make_weights(seed=0):
    """Glorot-uniform kernels in Keras's layouts ((kh, kw, in, out) and (in, out)) and small
    non-zero biases, so a wrong bias gradient cannot hide behind zeros. All float32."""
    rng = np.random.default_rng(seed)
    flat = shapes()[3] ** 2 * FILTERS[1]
    kernels = [(K, K, 1, FILTERS[0]), (K, K, FILTERS[0], FILTERS[1]), (flat, CLASSES)]
    weights = []
    for shape in kernels:
        receptive = int(np.prod(shape[:-2]))
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, shape).astype(np.float32))
        weights.append(rng.uniform(-0.05, 0.05, shape[-1]).astype(np.float32))
    return weights


def make_data(n, seed=1):
    """Pixel-like images in [0, 1), (n, 28, 28, 1), and integer labels 0-9 (int64)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIDE, SIDE, 1), dtype=np.float32)
    y = rng.integers(0, CLASSES, n).astype(np.int64)
    return x, y


# --------------------------------------------------------------------------- numpy floor
def cols_one_channel(x, k):
    """im2col of a one-channel batch (n, h, w) for a valid k x k convolution, K-major:
    row i*k + j holds the input shifted by (i, j) at every output position, so the matrix
    is (k*k, n*oh*ow) and its transpose is the usual (positions, k*k) im2col matrix. Nine
    contiguous slice copies are much faster than one strided copy with a channel axis of 1."""
    n, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    cols = np.empty((k * k, n, oh, ow), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[i * k + j] = x[:, i:i + oh, j:j + ow]
    return cols.reshape(k * k, n * oh * ow)


def cols_windows(x, k):
    """im2col of (n, h, w, c) for a valid k x k convolution: one copy from a strided window
    view, giving (n*oh*ow, k*k*c) with columns in (i, j, c) order, the row order of a Keras
    kernel (k, k, c, filters) reshaped to (k*k*c, filters)."""
    n, h, w, c = x.shape
    oh, ow = h - k + 1, w - k + 1
    sn, sh, sw, sc = x.strides
    view = as_strided(x, (n, oh, ow, k, k, c), (sn, sh, sw, sh, sw, sc), writeable=False)
    cols = np.empty(view.shape, x.dtype)
    np.copyto(cols, view)
    return cols.reshape(n * oh * ow, k * k * c)


def col2im(dcols, in_shape, k):
    """The adjoint of cols_windows: dcols (n, oh, ow, k, k, c) summed back onto the input
    positions, as k*k strided slice adds (never np.add.at)."""
    dx = np.zeros(in_shape, dcols.dtype)
    oh, ow = dcols.shape[1:3]
    for i in range(k):
        for j in range(k):
            dx[:, i:i + oh, j:j + ow, :] += dcols[:, :, :, i, j, :]
    return dx


def max_pool_2x2(a):
    """2x2 max pooling, stride 2, valid, of (n, h, w, c): three np.maximum calls over the
    four strided views of the window corners. An odd last row or column is dropped, as in
    Keras. Returns the pooled array and the four views (kept for the backward)."""
    ph, pw = a.shape[1] // 2, a.shape[2] // 2
    corners = {(i, j): a[:, i:2 * ph:2, j:2 * pw:2, :] for i in (0, 1) for j in (0, 1)}
    views = list(corners.values())
    p = np.maximum(views[0], views[1])
    np.maximum(p, views[2], out=p)
    np.maximum(p, views[3], out=p)
    return p, corners


def max_pool_relu_backward(dp, p, corners, shape):
    """Gradient at the pre-activation z of relu(z) -> max pool, from the gradient dp at the
    pool's output p. A window passes dp to the corner equal to its maximum, and ReLU passes
    it on only where that maximum is positive (p > 0), so both masks are one product.
    Two equal positive maxima in one window would both receive it (torch picks one); with
    random float data that does not happen, and the agreement check would show it."""
    g = dp * (p > 0)
    odd = shape[1] % 2 or shape[2] % 2
    dz = (np.zeros if odd else np.empty)(shape, dp.dtype)  # dropped rows stay 0
    ph, pw = p.shape[1], p.shape[2]
    for (i, j), corner in corners.items():
        np.multiply(g, corner == p, out=dz[:, i:2 * ph:2, j:2 * pw:2, :])
    return dz


class NumpyConvNet:
    """The step by hand: the least work a NumPy engine has to do for it. Buffers are made
    fresh every step (reusing them measured no faster for arrays this big), and each one is
    dropped as soon as the backward no longer needs it, so the step's peak memory is a fair
    floor for the memory target. Parameters stay in Keras's layouts."""

    def __init__(self, weights, x, y, lr=LR):
        self.params = [w.copy() for w in weights]
        self.grads = [np.empty_like(w) for w in weights]
        self.x, self.y, self.lr = x, y, lr
        self.rows = np.arange(x.shape[0])

    def forward_backward(self):
        """Fill ``self.grads``; return the mean loss as a Python float."""
        W1, b1, W2, b2, Wd, bd = self.params
        gW1, gb1, gW2, gb2, gWd, gbd = self.grads
        x, y, rows = self.x, self.y, self.rows
        n = x.shape[0]
        c1, p1s, c2, _ = shapes()
        W1m = W1.reshape(K * K, FILTERS[0])
        W2m = W2.reshape(K * K * FILTERS[0], FILTERS[1])
        # conv1: (9, positions).T @ (9, 32); BLAS takes the transpose as a flag
        cols1 = cols_one_channel(x[..., 0], K)
        z1 = cols1.T @ W1m
        z1 += b1
        np.maximum(z1, 0.0, out=z1)                      # bias and ReLU in place
        a1 = z1.reshape(n, c1, c1, FILTERS[0])
        p1, corners1 = max_pool_2x2(a1)
        # conv2: im2col of the pooled maps, one GEMM
        cols2 = cols_windows(p1, K)
        z2 = cols2 @ W2m
        z2 += b2
        np.maximum(z2, 0.0, out=z2)
        a2 = z2.reshape(n, c2, c2, FILTERS[1])
        p2, corners2 = max_pool_2x2(a2)
        flat = p2.reshape(n, -1)                         # (h, w, c) order, as Keras's Flatten
        z = flat @ Wd
        z += bd
        # log-softmax cross-entropy, after subtracting the row maximum
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=1, keepdims=True)
        loss = float((np.log(total).sum() - z[rows, y].sum()) / n)
        # backward of the mean: (softmax - onehot) / n
        e /= total
        e[rows, y] -= 1.0
        e *= 1.0 / n
        np.matmul(flat.T, e, out=gWd)
        e.sum(axis=0, out=gbd)
        dp2 = (e @ Wd.T).reshape(p2.shape)
        dz2 = max_pool_relu_backward(dp2, p2, corners2, a2.shape).reshape(-1, FILTERS[1])
        del dp2, p2, corners2, a2, z2
        np.matmul(cols2.T, dz2, out=gW2.reshape(W2m.shape))
        dz2.sum(axis=0, out=gb2)
        del cols2
        dcols2 = (dz2 @ W2m.T).reshape(n, c2, c2, K, K, FILTERS[0])
        del dz2
        dp1 = col2im(dcols2, p1.shape, K)
        del dcols2
        dz1 = max_pool_relu_backward(dp1, p1, corners1, a1.shape).reshape(-1, FILTERS[0])
        del dp1, p1, corners1, a1, z1
        np.matmul(cols1, dz1, out=gW1.reshape(W1m.shape))
        dz1.sum(axis=0, out=gb1)
        return loss

    def update(self):
        common.sgd_update(self.params, self.grads, self.lr)

    def step(self):
        loss = self.forward_backward()
        self.update()
        return loss


# --------------------------------------------------------------------------- minikeras
def build_minikeras(weights):
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((SIDE, SIDE, 1)),
        layers.Conv2D(FILTERS[0], kernel_size=(K, K), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(FILTERS[1], kernel_size=(K, K), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(CLASSES),
    ])
    model.compile(optimizer=keras.optimizers.SGD(LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.set_weights([w.copy() for w in weights])
    return model


def minikeras_loss_and_grads(model, x, y):
    """What train_step computes before the update: the compiled loss of model(x) and its
    gradients, through a GradientTape."""
    xt, yt = minikeras.Tensor(x), minikeras.Tensor(y)
    with minikeras.GradientTape() as tape:
        y_pred = model(xt, training=True)
        loss = model.compute_loss(xt, yt, y_pred)
    grads = tape.gradient(loss, model.trainable_weights)
    return float(loss.item()), [g.numpy() for g in grads]


def minikeras_step(model, x, y):
    train_on_batch = model.train_on_batch
    return lambda: train_on_batch(x, y)


# --------------------------------------------------------------------------- torch
def torch_dense_kernel(kernel):
    """Keras's Dense kernel after Flatten has rows in (h, w, c) order; torch flattens NCHW
    maps in (c, h, w) order and keeps (out, in): permute the rows to match."""
    side = shapes()[3]
    return kernel.reshape(side, side, FILTERS[1], CLASSES).transpose(3, 2, 0, 1).reshape(
        CLASSES, -1)


def keras_dense_kernel(weight):
    """The inverse of torch_dense_kernel, for comparing gradients."""
    side = shapes()[3]
    return weight.reshape(CLASSES, FILTERS[1], side, side).transpose(2, 3, 1, 0).reshape(
        -1, CLASSES)


def build_torch(torch, weights):
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, FILTERS[0], K), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(FILTERS[0], FILTERS[1], K), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(shapes()[3] ** 2 * FILTERS[1], CLASSES))
    conv1, conv2, dense = net[0], net[3], net[7]
    W1, b1, W2, b2, Wd, bd = weights
    with torch.no_grad():
        for layer, kernel, bias in ((conv1, W1, b1), (conv2, W2, b2)):
            # Keras (kh, kw, in, out) -> torch (out, in, kh, kw)
            layer.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            layer.bias.copy_(torch.from_numpy(bias))
        dense.weight.copy_(torch.from_numpy(np.ascontiguousarray(torch_dense_kernel(Wd))))
        dense.bias.copy_(torch.from_numpy(bd))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    return net, (conv1, conv2, dense), criterion, optimizer


def torch_input(torch, x):
    """The batch as torch wants it, NCHW (converted once, outside the step)."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def torch_loss_and_grads(torch, parts, x, y):
    net, (conv1, conv2, dense), criterion, _ = parts
    for p in net.parameters():
        p.grad = None
    loss = criterion(net(torch_input(torch, x)), torch.from_numpy(y))
    loss.backward()
    grads = []
    for conv in (conv1, conv2):
        grads += [conv.weight.grad.numpy().transpose(2, 3, 1, 0), conv.bias.grad.numpy()]
    grads += [keras_dense_kernel(dense.weight.grad.numpy()), dense.bias.grad.numpy()]
    return float(loss.item()), grads


def torch_step(torch, parts, x, y):
    net, _, criterion, optimizer = parts
    xt, yt = torch_input(torch, x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = criterion(net(xt), yt)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


# --------------------------------------------------------------------------- checks
def check_agreement(torch, weights, x, y, with_minikeras):
    """Loss and gradients of every variant against the floor, from the same weights and
    data. Returns the variant names, {tensor: {variant: error}}, the worst error and the
    gradient dtypes of each variant."""
    floor = NumpyConvNet(weights, x, y)
    ref_loss = floor.forward_backward()
    ref = [ref_loss] + [g.copy() for g in floor.grads]
    results = {}
    if with_minikeras:
        loss, grads = minikeras_loss_and_grads(build_minikeras(weights), x, y)
        results["minikeras"] = [loss] + grads
    if torch is not None:
        loss, grads = torch_loss_and_grads(torch, build_torch(torch, weights), x, y)
        results["torch"] = [loss] + grads
    errors = {}
    for i, name in enumerate(("loss",) + PARAM_NAMES):
        errors[name] = {variant: common.rel_error(got[i], ref[i])
                        for variant, got in results.items()}
    worst = max((e for row in errors.values() for e in row.values()), default=0.0)
    dtypes = {k: sorted({str(np.asarray(g).dtype) for g in v[1:]}) for k, v in results.items()}
    return list(results), errors, worst, dtypes


def check_one_step(model, weights, x, y):
    """After one train_on_batch from ``weights``, the weights must be the floor's after one
    step, measured against the size of the update (|w1 - w0|)."""
    floor = NumpyConvNet(weights, x, y)
    floor_loss = floor.step()
    mk_loss = float(model.train_on_batch(x, y))
    worst = abs(mk_loss - floor_loss) / abs(floor_loss)
    for w0, w_mk, w_floor in zip(weights, model.get_weights(), floor.params):
        delta = np.linalg.norm(w_floor.astype(np.float64) - w0)
        worst = max(worst, float(np.linalg.norm(w_mk.astype(np.float64) - w_floor) / delta))
    return worst


def report_memory(weights, x, y, with_minikeras):
    """The untimed tracemalloc pass: the peak memory one step allocates, minikeras against
    the floor, printed with the verdict against TARGET_MEMORY. The floor makes its buffers
    fresh in every step, so the plain step is what it measures."""
    steps = {"numpy floor": NumpyConvNet(weights, x, y).step}
    if with_minikeras:
        steps = {"minikeras": minikeras_step(build_minikeras(weights), x, y), **steps}
    return common.report_memory(steps, TARGET_MEMORY)


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_timing_options(p, rounds=10, steps=3, warmup=5, memory=True)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    limiter, threads_note = common.limit_blas_threads(args.threads)
    n_threads = args.threads or common.blas_threads() or os.cpu_count() or 1
    torch, torch_note = common.import_torch(args.no_torch, n_threads)
    weights = make_weights()
    x, y = make_data(BATCH)
    flops = step_flops()
    mk_note = common.minikeras_unusable(
        keras, MK_IMPORT_ERROR, LAYERS_NEEDED,
        lambda: minikeras_loss_and_grads(build_minikeras(weights), x, y))

    env = common.environment()
    env["torch"] = torch_note
    env["minikeras"] = (f"{minikeras.__version__} from {os.path.dirname(minikeras.__file__)}"
                        if minikeras is not None else "not importable")
    env["blas_threads"] = f"{n_threads} ({threads_note})"
    pools = common.threadpool_lines()
    c1, p1, c2, p2 = shapes()
    common.print_header(
        f"W2 convnet step: {SIDE}x{SIDE}x1 -> Conv2D({FILTERS[0]}, {K}x{K}, relu) {c1}x{c1} -> "
        f"MaxPool 2 {p1}x{p1} -> Conv2D({FILTERS[1]}, {K}x{K}, relu) {c2}x{c2} -> MaxPool 2 "
        f"{p2}x{p2} -> Flatten -> Dense({CLASSES}); softmax cross-entropy of logits, batch "
        f"{BATCH}, float32, SGD lr {LR}; {flops / 1e6:.0f} MFLOP per step", env, pools, args)
    if mk_note:
        print(f"  NOTE         {mk_note}: the minikeras rows are left out.")

    # Every variant must compute the same loss and gradients before its time means anything.
    names, errors, worst, dtypes = check_agreement(torch, weights, x, y, mk_note is None)
    common.report_agreement(names, errors, worst, dtypes, TOLERANCE)
    step_err = None
    if mk_note is None:
        step_err = check_one_step(build_minikeras(weights), weights, x, y)
        print(f"  check        one train_on_batch step vs one floor step: worst error "
              f"{step_err:.1e} (loss, and weights relative to the size of the update)")
    print()

    memory = None if args.no_memory else report_memory(weights, x, y, mk_note is None)

    variants = {}
    if mk_note is None:
        variants["minikeras"] = minikeras_step(build_minikeras(weights), x, y)
    if torch is not None:
        variants["torch"] = torch_step(torch, build_torch(torch, weights), x, y)
    variants["numpy floor"] = NumpyConvNet(weights, x, y).step
    notes = ([] if torch is not None else [f"torch {torch_note}"]) + \
            ([] if mk_note is None else [f"minikeras left out: {mk_note}"])
    timing = common.time_and_report(variants, args, flops, notes, TARGET_VS_TORCH,
                                    TARGET_VS_FLOOR)

    if args.json:
        common.write_json(args.json, {
            "benchmark": "W2 convnet step",
            "workload": f"Keras MNIST convnet {SIDE}x{SIDE}x1, Conv2D {FILTERS[0]} and "
                        f"{FILTERS[1]} {K}x{K} relu, MaxPooling2D 2, Dense {CLASSES}; sparse "
                        f"softmax CE of logits, batch {BATCH}, float32, SGD lr {LR}; "
                        "forward + backward + update",
            "unit": "milliseconds per step",
            "mflop_per_step": flops / 1e6,
            "config": vars(args),
            "threads": n_threads,
            "environment": env,
            "threadpools": pools,
            "minikeras_left_out": mk_note,
            "check": {"rel_error_vs_floor": errors, "worst": worst,
                      "one_step_worst": step_err, "gradient_dtypes": dtypes},
            "targets": {"vs_torch": TARGET_VS_TORCH, "vs_floor": TARGET_VS_FLOOR,
                        "memory_vs_floor": TARGET_MEMORY},
            "memory": memory,
            **timing,
        })
        print(f"Wrote {args.json}")
    del limiter  # the BLAS limit holds until here


if __name__ == "__main__":
    main()
