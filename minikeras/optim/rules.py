"""The update rules of the optimizers, each beside its formula: SGD, Adam, AdamW, RMSprop,
Adagrad, Adadelta, Adamax, Nadam, Lion."""

import numpy as np

from .. import backend

from .base import Optimizer, _is_number


def _f(w, *values):
    """The Python numbers ``values`` as scalars of ``w``'s dtype (Keras's ``ops.cast``)."""
    f = w.dtype.type
    return [f(v) for v in values]


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    ``momentum == 0``: ``w -= lr * g``. Otherwise, with a velocity slot ``m`` (zeros at first)::

        m = momentum * m - lr * g
        w += m                         # nesterov=False
        w += momentum * m - lr * g     # nesterov=True
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        if not _is_number(momentum) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = (self.add_optimizer_variables(var_list, "momentum")
                          if self.momentum != 0 else [])

    def update_step(self, gradient, variable, learning_rate):
        w, g = variable.data, gradient.data
        lr, mu = _f(w, learning_rate, self.momentum)
        if self.momentum == 0:
            w -= lr * g
            return
        m = self.momentums[self._get_variable_index(variable)].data
        m *= mu
        m -= lr * g
        if self.nesterov:
            w += m * mu - lr * g
        else:
            w += m

    # Plain SGD (no momentum) runs its loop only from this many elements up (see below).
    LOOP_FROM_SIZE = 32_768

    def fused_update_step(self, gradient, variable, learning_rate):
        """``update_step`` as one Numba loop (``kernels/cpu/updates.py``; a CUDA kernel on a
        GPU), same bits, for every weight it fits (contiguous, one float dtype). Measured at
        1 thread (``benchmarks/bench_optimizer_update.py``, formula time / loop time):

        * with momentum: 1.3x at 512x10, 1.5x at 16k-18k elements, 1.8-2.3x from 262k up;
        * plain: 0.9x at 512x10 (the loop loses), 1.1x at 16k-18k, 1.6-2.0x from 65k up;
          so plain SGD keeps the formula below ``LOOP_FROM_SIZE`` elements.
        """
        w, g = variable.data, gradient.data
        if self.momentum == 0 and w.size < self.LOOP_FROM_SIZE:
            return False
        lr, mu = _f(w, learning_rate, self.momentum)
        m = self.momentums[self._get_variable_index(variable)].data if self.momentum else None
        return backend.kernels.sgd_update(w, g, lr, m, mu, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), in Keras's form. With ``t = iterations + 1``::

        m += (g - m) * (1 - beta_1)           # first moment
        v += (g*g - v) * (1 - beta_2)         # second moment
        v_hat = max(v_hat, v)                 # amsgrad=True only; then v_hat is used as v
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= alpha * m / (sqrt(v) + epsilon)

    Note where epsilon sits: added to the *uncorrected* ``sqrt(v)``, not to the
    bias-corrected one as in PyTorch, so the same epsilon weighs a little differently.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        w, g = variable.data, gradient.data
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].data, self._velocities[i].data
        alpha, c1, c2, eps = self._scalars(w, learning_rate)
        m += (g - m) * c1
        v += (g * g - v) * c2
        if self.amsgrad:
            v_hat = self._velocity_hats[i].data
            backend.xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        w -= m * alpha / (backend.xp.sqrt(v) + eps)

    def _scalars(self, w, learning_rate):
        """alpha, 1 - beta_1, 1 - beta_2 and epsilon, in w's dtype."""
        lr, b1, b2, t, eps = _f(w, learning_rate, self.beta_1, self.beta_2, self._step + 1,
                                self.epsilon)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        c1, c2 = _f(w, 1 - self.beta_1, 1 - self.beta_2)
        return alpha, c1, c2, eps

    def fused_update_step(self, gradient, variable, learning_rate):
        """On a GPU, ``update_step`` as one CUDA kernel (``kernels/cuda/updates.py``)
        instead of about ten CuPy launches. On the CPU there is no loop: at 1 thread a Numba
        loop took 1.4-1.8x the time of this NumPy formula on every weight of the benchmarks'
        models (16k to 401k elements; even at 512x10), and won only on a 4M-element weight
        (formula 1.2-1.4x slower), larger than any of those models has
        (``benchmarks/bench_optimizer_update.py``)."""
        kernel = getattr(backend.kernels, "adam_update", None)
        if kernel is None:
            return False
        w, g = variable.data, gradient.data
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].data, self._velocities[i].data
        v_hat = self._velocity_hats[i].data if self.amsgrad else None
        return kernel(w, m, v, v_hat, g, *self._scalars(w, learning_rate))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``weight_decay=0.004`` by
    default, applied as ``w -= w * weight_decay * lr`` before the Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012)::

        v = rho * v + (1 - rho) * g*g
        a = rho * a + (1 - rho) * g                 # centered=True only
        increment = lr * g / sqrt(v - a*a + epsilon)   # centered; else sqrt(v + epsilon)
        mom = momentum * mom + increment; w -= mom     # momentum > 0; else w -= increment

    epsilon sits inside the square root here.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = (self.add_optimizer_variables(var_list, "momentum")
                           if self.momentum > 0 else [])
        self._average_gradients = (self.add_optimizer_variables(var_list, "average_gradient")
                                   if self.centered else [])

    def update_step(self, gradient, variable, learning_rate):
        w, g = variable.data, gradient.data
        i = self._get_variable_index(variable)
        lr, rho, one_minus_rho, eps = _f(w, learning_rate, self.rho, 1 - self.rho,
                                         self.epsilon)
        v = self._velocities[i].data
        v *= rho
        v += g * g * one_minus_rho
        if self.centered:
            a = self._average_gradients[i].data
            a *= rho
            a += g * one_minus_rho
            increment = g * lr / backend.xp.sqrt(v - a * a + eps)
        else:
            increment = g * lr / backend.xp.sqrt(v + eps)
        if self.momentum > 0:
            mom = self._momentums[i].data
            mom *= w.dtype.type(self.momentum)
            mom += increment
            w -= mom
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: ``acc += g*g; w -= lr * g / sqrt(acc + epsilon)``, with the accumulator
    starting at ``initial_accumulator_value``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=float(self.initial_accumulator_value))

    def update_step(self, gradient, variable, learning_rate):
        w, g = variable.data, gradient.data
        lr, eps = _f(w, learning_rate, self.epsilon)
        acc = self._accumulators[self._get_variable_index(variable)].data
        acc += g * g
        w -= g * lr / backend.xp.sqrt(acc + eps)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), with ``rms(x) = sqrt(x + epsilon)``::

        acc_g = rho * acc_g + (1 - rho) * g*g
        delta = -rms(acc_delta) * g / rms(acc_g)
        acc_delta = rho * acc_delta + (1 - rho) * delta*delta
        w += lr * delta
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, learning_rate):
        xp, w, g = backend.xp, variable.data, gradient.data
        i = self._get_variable_index(variable)
        acc_g, acc_d = self._accumulated_grads[i].data, self._accumulated_delta_vars[i].data
        lr, rho, one_minus_rho, eps = _f(w, learning_rate, self.rho, 1 - self.rho,
                                         self.epsilon)
        acc_g *= rho
        acc_g += g * g * one_minus_rho
        delta = -(xp.sqrt(acc_d + eps) * g / xp.sqrt(acc_g + eps))
        acc_d *= rho
        acc_d += delta * delta * one_minus_rho
        w += delta * lr

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm. With ``t = iterations + 1``::

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        xp, w, g = backend.xp, variable.data, gradient.data
        i = self._get_variable_index(variable)
        m, u = self._m[i].data, self._u[i].data
        lr, b1, b2, t, eps, one_minus_b1 = _f(w, learning_rate, self.beta_1, self.beta_2,
                                              self._step + 1, self.epsilon, 1 - self.beta_1)
        m += (g - m) * one_minus_b1
        u *= b2
        xp.maximum(u, xp.abs(g), out=u)
        w -= m * lr / ((u + eps) * (1 - b1 ** t))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2015), with Keras's momentum schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and a running product ``prod_t = u_1 * ... * u_t``
    (the extra variable ``u_product``, last in ``variables``). With ``t = iterations + 1``::

        m += (g - m) * (1 - beta_1);  v += (g*g - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - prod_t * u_{t+1}) + (1 - u_t) * g / (1 - prod_t)
        v_hat = v / (1 - beta_2**t)
        w -= lr * m_hat / (sqrt(v_hat) + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        dtype = var_list[0].dtype if var_list else backend.floatx()
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype,
                                            name="u_product")

    def _backend_update_step(self, grads, variables, lr):
        p = self._u_product.data
        b1, t, decay, half = _f(p, self.beta_1, self._step + 1, 0.96, 0.5)
        backend.xp.multiply(p, b1, out=p)
        backend.xp.multiply(p, 1 - half * decay ** t, out=p)
        self._u_product_now = float(p)
        super()._backend_update_step(grads, variables, lr)

    def update_step(self, gradient, variable, learning_rate):
        xp, w, g = backend.xp, variable.data, gradient.data
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].data, self._velocities[i].data
        lr, b1, b2, eps, t, decay, half, prod = _f(
            w, learning_rate, self.beta_1, self.beta_2, self.epsilon, self._step + 1, 0.96,
            0.5, self._u_product_now)
        u_t = b1 * (1 - half * decay ** t)
        u_next = b1 * (1 - half * decay ** (t + 1))
        prod_next = prod * u_next
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = m * u_next / (1 - prod_next) + g * (1 - u_t) / (1 - prod)
        v_hat = v / (1 - b2 ** t)
        w -= m_hat * lr / (xp.sqrt(v_hat) + eps)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion (Chen et al., 2023): the update is a sign, so every weight moves by exactly lr::

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Use a learning rate 3-10x smaller than for Adam.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        xp, w, g = backend.xp, variable.data, gradient.data
        m = self._momentums[self._get_variable_index(variable)].data
        lr, b1, b2 = _f(w, learning_rate, self.beta_1, self.beta_2)
        w -= xp.sign(m * b1 + g * (1 - b1)) * lr
        m *= b2
        m += g * (1 - b2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
