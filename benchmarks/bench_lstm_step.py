"""W4: one training step of an LSTM classifier, minikeras against PyTorch and a NumPy floor.

The network reads sequences of 32 steps of 32 features through an LSTM of 128 units
(tanh, sigmoid gates, zero initial states) and maps the last step's output through
Dense(10) to logits; the loss is softmax cross-entropy of the logits against integer
labels (mean over the batch), the batch is 64, everything is float32 and the optimizer is
plain SGD with learning rate 0.01. One step is forward + backward through time + update.
The variants:

  minikeras       keras.Sequential([keras.Input((32, 32)), LSTM(128), Dense(10)]) compiled
                  with SGD(0.01) and SparseCategoricalCrossentropy(from_logits=True),
                  model.train_on_batch(x, y)
  mk: cell loop   (with --cell-loop) the same with LSTM(128, use_cudnn=False): the LSTM
                  cell run step by step from primitive ops instead of the fused sequence op
  torch           PyTorch eager: nn.LSTM(batch_first=True), nn.Linear on the last step,
                  nn.CrossEntropyLoss, torch.optim.SGD
  numpy floor     the hand-fused LSTM: one GEMM for the input projection of all steps, one
                  recurrent GEMM per step, the gates laid out (i, f, o | g) so the sigmoid is
                  one in-place pass over 3u columns, the activation derivatives computed
                  for the whole sequence at once, and the weight gradients after the loop
                  as two big GEMMs

Before any timing, all of them start from the same weights and data, and the loss and the
five gradients must agree with the floor (norm-wise relative error < 1e-4).

Target (the W4 issue): minikeras within 1.5x of PyTorch. cpu-performance.md suggests at
most 1.5x the floor too.

Run from the repository root:  python benchmarks/bench_lstm_step.py [--rounds 10] [--threads 2]
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

try:
    import minikeras
    import minikeras as keras
    MK_IMPORT_ERROR = None
except Exception as e:  # noqa: BLE001  (the package may be mid-edit)
    minikeras = keras = None
    MK_IMPORT_ERROR = f"{type(e).__name__}: {e}"

BATCH = 64
STEPS = 32                   # timesteps
FEATURES = 32
UNITS = 128
CLASSES = 10
LR = 0.01
TOLERANCE = 1e-4             # norm-wise relative error of loss and gradients, against the floor
TARGET_VS_TORCH = 1.5        # minikeras / torch, at most
TARGET_VS_FLOOR = 1.5        # minikeras / numpy floor, at most (cpu-performance.md)
PARAM_NAMES = ("lstm kernel", "lstm recurrent_kernel", "lstm bias", "dense kernel",
               "dense bias")
LAYERS_NEEDED = ("LSTM", "Dense")


def step_flops():
    """Multiply-adds x 2 of one step: forward and dW of the input projection, the recurrent
    product and the dense layer, plus dh through the recurrent product at every step and
    through the dense layer (the input needs no gradient)."""
    u4 = 4 * UNITS
    projection = 2 * BATCH * STEPS * FEATURES * u4
    recurrent = 2 * BATCH * STEPS * UNITS * u4
    dense = 2 * BATCH * UNITS * CLASSES
    return 2 * (projection + recurrent + dense) + recurrent + dense


# --------------------------------------------------------------------------- data, weights
def make_weights(seed=0):
    """Keras's LSTM layout and initializers: kernel (D, 4u) Glorot-uniform, recurrent kernel
    (u, 4u) orthogonal, gates i, f, c, o; the bias small and random with 1 added to the
    forget slice (unit_forget_bias), so a wrong bias gradient cannot hide behind zeros.
    Then the Dense kernel (u, 10) and bias. All float32."""
    rng = np.random.default_rng(seed)
    u4 = 4 * UNITS
    limit = np.sqrt(6.0 / (FEATURES + u4))
    kernel = rng.uniform(-limit, limit, (FEATURES, u4))
    q, r = np.linalg.qr(rng.standard_normal((u4, UNITS)))
    recurrent = (q * np.sign(np.diag(r))).T       # orthonormal rows, (u, 4u)
    bias = rng.uniform(-0.05, 0.05, u4)
    bias[UNITS:2 * UNITS] += 1.0
    limit = np.sqrt(6.0 / (UNITS + CLASSES))
    dense = rng.uniform(-limit, limit, (UNITS, CLASSES))
    dense_bias = rng.uniform(-0.05, 0.05, CLASSES)
    return [w.astype(np.float32) for w in (kernel, recurrent, bias, dense, dense_bias)]


def make_data(n, seed=1):
    """Standard-normal sequences (n, 32, 32) and integer labels 0-9 (int64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, STEPS, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, n).astype(np.int64)
    return x, y


# --------------------------------------------------------------------------- numpy floor
# Keras's gates are (i, f, c, o); the floor keeps its columns as (i, f, o, g) (g is Keras's
# c, the candidate) so the three sigmoid gates are one contiguous block of 3u columns.
_U = UNITS
FLOOR_ORDER = np.r_[0:2 * _U, 3 * _U:4 * _U, 2 * _U:3 * _U]   # floor column k = Keras column


def to_floor(w):
    return np.ascontiguousarray(w[..., FLOOR_ORDER])


def to_keras(w):
    out = np.empty_like(w)
    out[..., FLOOR_ORDER] = w
    return out


def sigmoid_(a):
    """sigmoid(a) = 1 / (1 + exp(-a)), in place: four ufunc passes, no temporary."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


class NumpyLSTM:
    """The step by hand. With z_t = x_t W + h_{t-1} U + b split into gates,

        i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_g),
        c_t = f c_{t-1} + i g,             h_t = o tanh(c_t),

    and backward through time, with dh and dc flowing from step t to step t-1:

        dc_t += dh_t o (1 - tanh(c_t)^2),   dc_{t-1} = dc_t f,
        dz_i = dc_t g i (1 - i),  dz_f = dc_t c_{t-1} f (1 - f),
        dz_o = dh_t tanh(c_t) o (1 - o),  dz_g = dc_t i (1 - g^2),
        dh_{t-1} = dz_t U^T;  after the loop dW = X^T dZ, dU = H^T dZ, db = sum dZ.

    Every buffer is allocated once (the step's ufuncs write with ``out=``); time runs along
    the first axis so each step's slices are contiguous."""

    def __init__(self, weights, x, y, lr=LR):
        kernel, recurrent, bias, dense, dense_bias = weights
        self.params = [to_floor(kernel), to_floor(recurrent), to_floor(bias),
                       dense.copy(), dense_bias.copy()]
        self.x, self.y, self.lr = x, y, lr
        self.allocate()

    def allocate(self):
        """The gradients, the batch time-major and the buffers of a step, made anew."""
        x = self.x
        b, t, u = x.shape[0], x.shape[1], UNITS
        self.grads = [np.empty_like(w) for w in self.params]
        self.xs = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(t * b, -1)  # (T*B, D)
        self.rows = np.arange(b)
        f32 = np.float32
        self.gates = np.empty((t, b, 4 * u), f32)   # z, then the activated gates in place
        self.dgates = np.empty((t, b, 4 * u), f32)  # the gates' derivatives, then dz
        self.h = np.zeros((t + 1, b, u), f32)       # h[0] and c[0] stay the zero state
        self.c = np.zeros((t + 1, b, u), f32)
        self.tanh_c = np.empty((t, b, u), f32)
        self.dtanh_c = np.empty((t, b, u), f32)
        self.hu = np.empty((b, 4 * u), f32)
        self.tmp = np.empty((b, u), f32)
        self.dh = np.empty((b, u), f32)
        self.dc = np.empty((b, u), f32)

    def forward_backward(self):
        """Fill ``self.grads`` (in the floor's gate order); return the mean loss."""
        W, U, bias, Wd, bd = self.params
        gW, gU, gb, gWd, gbd = self.grads
        G, dG, H, C, TC, dTC = (self.gates, self.dgates, self.h, self.c, self.tanh_c,
                                self.dtanh_c)
        hu, tmp, dh, dc = self.hu, self.tmp, self.dh, self.dc
        T, B = G.shape[0], G.shape[1]
        u = UNITS
        # input projection of every step at once, bias included
        np.matmul(self.xs, W, out=G.reshape(T * B, 4 * u))
        G += bias
        for t in range(T):
            z = G[t]
            np.matmul(H[t], U, out=hu)
            z += hu
            sigmoid_(z[:, :3 * u])
            np.tanh(z[:, 3 * u:], out=z[:, 3 * u:])
            i, f, o, g = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
            np.multiply(f, C[t], out=C[t + 1])
            np.multiply(i, g, out=tmp)
            C[t + 1] += tmp
            np.tanh(C[t + 1], out=TC[t])
            np.multiply(o, TC[t], out=H[t + 1])
        h_last = H[T]
        logits = h_last @ Wd
        logits += bd
        # log-softmax cross-entropy, after subtracting the row maximum
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        loss = float((np.log(total).sum() - logits[self.rows, self.y].sum()) / B)
        e /= total
        e[self.rows, self.y] -= 1.0
        e *= 1.0 / B
        np.matmul(h_last.T, e, out=gWd)
        e.sum(axis=0, out=gbd)
        np.matmul(e, Wd.T, out=dh)
        # the activation derivatives of the whole sequence: s(1 - s), 1 - g^2, 1 - tanh(c)^2
        sig, dsig = G[:, :, :3 * u], dG[:, :, :3 * u]
        np.multiply(sig, sig, out=dsig)
        np.subtract(sig, dsig, out=dsig)
        np.multiply(G[:, :, 3 * u:], G[:, :, 3 * u:], out=dG[:, :, 3 * u:])
        np.subtract(1.0, dG[:, :, 3 * u:], out=dG[:, :, 3 * u:])
        np.multiply(TC, TC, out=dTC)
        np.subtract(1.0, dTC, out=dTC)
        dc.fill(0.0)
        for t in range(T - 1, -1, -1):
            i, f, o, g = G[t, :, :u], G[t, :, u:2 * u], G[t, :, 2 * u:3 * u], G[t, :, 3 * u:]
            dz = dG[t]
            np.multiply(dh, o, out=tmp)
            tmp *= dTC[t]
            dc += tmp                                     # dc_t
            np.multiply(dh, TC[t], out=tmp)               # do, before dz[:, 2u:3u] is needed
            dz[:, 2 * u:3 * u] *= tmp
            np.multiply(dc, g, out=tmp)
            dz[:, :u] *= tmp
            np.multiply(dc, C[t], out=tmp)
            dz[:, u:2 * u] *= tmp
            np.multiply(dc, i, out=tmp)
            dz[:, 3 * u:] *= tmp
            dc *= f                                       # dc_{t-1}
            if t:
                np.matmul(dz, U.T, out=dh)                # dh_{t-1}
        dZ = dG.reshape(T * B, 4 * u)
        np.matmul(self.xs.T, dZ, out=gW)
        np.matmul(H[:T].reshape(T * B, u).T, dZ, out=gU)  # h_{t-1} for every step
        dZ.sum(axis=0, out=gb)
        return loss

    def keras_params(self):
        """The parameters in Keras's layout and gate order."""
        W, U, b, Wd, bd = self.params
        return [to_keras(W), to_keras(U), to_keras(b), Wd, bd]

    def keras_grads(self):
        gW, gU, gb, gWd, gbd = self.grads
        return [to_keras(gW), to_keras(gU), to_keras(gb), gWd.copy(), gbd.copy()]

    def update(self):
        common.sgd_update(self.params, self.grads, self.lr)

    def step(self):
        loss = self.forward_backward()
        self.update()
        return loss

    def step_in_new_buffers(self):
        """A step that makes its gradients and buffers first, for the memory pass: what
        the step works in then counts in its peak, as minikeras's arrays do."""
        self.allocate()
        return self.step()


# --------------------------------------------------------------------------- minikeras
def build_minikeras(weights, use_cudnn="auto"):
    model = keras.Sequential([
        keras.Input((STEPS, FEATURES)),
        keras.layers.LSTM(UNITS, use_cudnn=use_cudnn),
        keras.layers.Dense(CLASSES),
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
class TorchLSTM:
    """nn.LSTM (gates i, f, g, o: Keras's order, g being Keras's c) and nn.Linear on the
    last step. torch keeps (4u, in) matrices and two biases: weight_ih = kernel.T,
    weight_hh = recurrent_kernel.T, bias_ih = bias, bias_hh = 0."""

    def __init__(self, torch, weights):
        nn = torch.nn
        kernel, recurrent, bias, dense, dense_bias = weights
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.linear = nn.Linear(UNITS, CLASSES)
        with torch.no_grad():
            self.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
            self.lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
            self.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
            self.lstm.bias_hh_l0.zero_()
            self.linear.weight.copy_(torch.from_numpy(dense.T.copy()))
            self.linear.bias.copy_(torch.from_numpy(dense_bias))
        self.parameters = list(self.lstm.parameters()) + list(self.linear.parameters())
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.parameters, lr=LR)

    def loss(self, xt, yt):
        out, _ = self.lstm(xt)
        return self.criterion(self.linear(out[:, -1]), yt)


def torch_loss_and_grads(torch, net, x, y):
    for p in net.parameters:
        p.grad = None
    loss = net.loss(torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    lstm, linear = net.lstm, net.linear
    # bias_ih and bias_hh get the same gradient, the gradient of Keras's single bias
    grads = [lstm.weight_ih_l0.grad.numpy().T, lstm.weight_hh_l0.grad.numpy().T,
             lstm.bias_ih_l0.grad.numpy(), linear.weight.grad.numpy().T,
             linear.bias.grad.numpy()]
    return float(loss.item()), grads


def torch_step(torch, net, x, y):
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    optimizer, loss_of = net.optimizer, net.loss

    def step():
        optimizer.zero_grad()
        loss = loss_of(xt, yt)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


# --------------------------------------------------------------------------- checks
def check_agreement(torch, weights, x, y, mk_variants):
    """Loss and gradients of every variant against the floor, from the same weights and
    data. ``mk_variants`` maps a row name to LSTM's use_cudnn. Returns the variant names,
    {tensor: {variant: error}}, the worst error and the gradient dtypes of each variant."""
    floor = NumpyLSTM(weights, x, y)
    ref = [floor.forward_backward()] + floor.keras_grads()
    results = {}
    for name, use_cudnn in mk_variants.items():
        loss, grads = minikeras_loss_and_grads(build_minikeras(weights, use_cudnn), x, y)
        results[name] = [loss] + grads
    if torch is not None:
        loss, grads = torch_loss_and_grads(torch, TorchLSTM(torch, weights), x, y)
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
    floor = NumpyLSTM(weights, x, y)
    floor_loss = floor.step()
    mk_loss = float(model.train_on_batch(x, y))
    worst = abs(mk_loss - floor_loss) / abs(floor_loss)
    for w0, w_mk, w_floor in zip(weights, model.get_weights(), floor.keras_params()):
        delta = np.linalg.norm(w_floor.astype(np.float64) - w0)
        worst = max(worst, float(np.linalg.norm(w_mk.astype(np.float64) - w_floor) / delta))
    return worst


def report_memory(weights, x, y, mk_variants):
    """The untimed tracemalloc pass: the peak memory of one step of every variant against
    the floor's. The floor and the fused LSTM keep their step buffers from one step to the
    next; in this pass the floor's step makes its buffers first, and the pool that the
    fused LSTM takes its (T, ...) buffers from is emptied before each minikeras step, so
    that they count."""
    from minikeras.kernels.cpu import recurrent
    steps = {name: minikeras_step(build_minikeras(weights, use_cudnn), x, y)
             for name, use_cudnn in mk_variants.items()}
    steps["numpy floor"] = NumpyLSTM(weights, x, y).step_in_new_buffers
    note = (common.MEMORY_NOTE + " The buffers that the floor and the fused LSTM keep from "
            "one step to the next are made anew in the measured step, so they count.")
    return common.report_memory(steps, note=note,
                                drop={name: recurrent._spare.clear for name in mk_variants})


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_timing_options(p, rounds=10, steps=3, warmup=5, memory=True)
    p.add_argument("--cell-loop", action="store_true",
                   help="also check and time LSTM(use_cudnn=False), the cell run step by step "
                        "from primitive ops")
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
    mk_variants = {}
    if mk_note is None:
        mk_variants["minikeras"] = "auto"
        if args.cell_loop:
            mk_variants["mk: cell loop"] = False

    env = common.environment()
    env["torch"] = torch_note
    env["minikeras"] = (f"{minikeras.__version__} from {os.path.dirname(minikeras.__file__)}"
                        if minikeras is not None else "not importable")
    env["blas_threads"] = f"{n_threads} ({threads_note})"
    pools = common.threadpool_lines()
    common.print_header(
        f"W4 LSTM step: ({STEPS} steps x {FEATURES} features) -> LSTM({UNITS}) last output -> "
        f"Dense({CLASSES}); softmax cross-entropy of logits, batch {BATCH}, float32, SGD lr "
        f"{LR}; {flops / 1e6:.0f} MFLOP per step", env, pools, args)
    if mk_note:
        print(f"  NOTE         {mk_note}: the minikeras rows are left out.")

    # Every variant must compute the same loss and gradients before its time means anything.
    names, errors, worst, dtypes = check_agreement(torch, weights, x, y, mk_variants)
    common.report_agreement(names, errors, worst, dtypes, TOLERANCE)
    step_err = None
    if mk_note is None:
        step_err = check_one_step(build_minikeras(weights), weights, x, y)
        print(f"  check        one train_on_batch step vs one floor step: worst error "
              f"{step_err:.1e} (loss, and weights relative to the size of the update)")
    print()

    memory = None if args.no_memory else report_memory(weights, x, y, mk_variants)

    variants = {name: minikeras_step(build_minikeras(weights, use_cudnn), x, y)
                for name, use_cudnn in mk_variants.items()}
    if torch is not None:
        variants["torch"] = torch_step(torch, TorchLSTM(torch, weights), x, y)
    variants["numpy floor"] = NumpyLSTM(weights, x, y).step
    notes = ([] if torch is not None else [f"torch {torch_note}"]) + \
            ([] if mk_note is None else [f"minikeras left out: {mk_note}"])
    timing = common.time_and_report(variants, args, flops, notes, TARGET_VS_TORCH,
                                    TARGET_VS_FLOOR)

    if args.json:
        common.write_json(args.json, {
            "benchmark": "W4 LSTM step",
            "workload": f"LSTM {UNITS} over {STEPS} steps of {FEATURES} features, last output "
                        f"-> Dense {CLASSES}; sparse softmax CE of logits, batch {BATCH}, "
                        f"float32, SGD lr {LR}; forward + backward + update",
            "unit": "milliseconds per step",
            "mflop_per_step": flops / 1e6,
            "config": vars(args),
            "threads": n_threads,
            "environment": env,
            "threadpools": pools,
            "minikeras_left_out": mk_note,
            "check": {"rel_error_vs_floor": errors, "worst": worst,
                      "one_step_worst": step_err, "gradient_dtypes": dtypes},
            "targets": {"vs_torch": TARGET_VS_TORCH, "vs_floor": TARGET_VS_FLOOR},
            "memory": memory,
            **timing,
        })
        print(f"Wrote {args.json}")
    del limiter  # the BLAS limit holds until here


if __name__ == "__main__":
    main()
