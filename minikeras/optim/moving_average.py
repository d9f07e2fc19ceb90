"""The exponential moving average of the weights (``use_ema=True``), for the Optimizer.

After every update::

    average = m * average + (1 - m) * w       # m = ema_momentum, 0 at the first step

and every ``ema_overwrite_frequency`` steps (or in ``finalize_variable_values``, which
``fit`` calls at the end) the averages are copied into the weights.
"""


class MovingAverage:
    """The ``use_ema`` part of :class:`~minikeras.optim.base.Optimizer`."""

    @staticmethod
    def _check_ema_arguments(ema_momentum, ema_overwrite_frequency):
        if ema_momentum > 1 or ema_momentum < 0:
            raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                             f"Received: ema_momentum={ema_momentum}")
        if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                        or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")

    def _update_moving_averages(self):
        for v, average in zip(self._trainable_variables, self._averages):
            w, a = v.data, average.data
            f = w.dtype.type
            m = f(self.ema_momentum) if self._step != 0 else f(0)
            a *= m
            a += w * (f(1) - m)
        freq = self.ema_overwrite_frequency
        if freq and (self._step + 1) % freq == 0:
            self._overwrite_with_averages(self._trainable_variables)

    def _overwrite_with_averages(self, var_list):
        if len(var_list) != len(self._averages):
            raise ValueError(f"The length of model variables ({len(var_list)}) to override does "
                             "not match the length of model variables stored in the optimizer "
                             f"({len(self._averages)}). Please check if the optimizer was called "
                             "on your model.")
        for v, average in zip(var_list, self._averages):
            v.assign(average)

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, copy the moving averages into the weights (``fit`` calls this at
        the end of training)."""
        if self.use_ema:
            self._overwrite_with_averages(list(var_list))


