"""PyTorch-only code paths. Imported only under KERAS_BACKEND=torch (by `kvae.backend` and `kvae.layers.LSTM`, at
call time): kvae never imports torch under another backend."""

import math

import torch
from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def lstm(layer, sequences, initial_state):
    """`keras.layers.LSTM`'s forward pass with PyTorch's native kernel (`torch._VF.lstm`, what `torch.nn.LSTM` calls).

    Keras's `inner_loop` contract: (last output (B, H), outputs (B, T, H) or (B, 1, H), [h (B, H), c (B, H)])."""
    cell = layer.cell
    use_lstm_layout(cell.kernel)
    use_lstm_layout(cell.recurrent_kernel)
    kernel, recurrent_kernel, bias = (ops.convert_to_tensor(v) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
    # Both use the gate order i, f, c, o. `.contiguous()` copies only kernels not laid out by `use_lstm_layout`
    # (oneDNN's LSTM is ~10% slower on strided views).
    weights = [kernel.T.contiguous(), recurrent_kernel.T.contiguous(), bias, torch.zeros_like(bias)]
    h0, c0 = (ops.convert_to_tensor(s).unsqueeze(0) for s in initial_state)
    # Arguments: has_biases, num_layers, dropout, train (cuDNN keeps its backward workspace only then),
    # bidirectional, batch_first.
    outputs, h, c = torch._VF.lstm(sequences, (h0, c0), weights, True, 1, 0.0, torch.is_grad_enabled(), False, True)
    last = outputs[:, -1]
    return last, outputs if layer.return_sequences else last[:, None], [h[0], c[0]]


def use_lstm_layout(variable):
    """Store a 2-D weight column-major, i.e. as the transpose of a contiguous matrix: an (in, 4H) LSTM kernel is
    then PyTorch's (4H, in) weight without a copy, and its gradient comes back in the same layout without one (two
    copies of every LSTM weight a step otherwise; measured with benchmarks/throughput.py). Shape,
    values, `get_weights`, checkpoints and optimizer slots (see `fused_adam_update`) are unchanged: only the
    memory order differs. Done on the variable's own parameter at the first call, not at build: variables built
    symbolically get their parameter later."""
    if torch.compiler.is_compiling():
        return
    parameter = getattr(variable, "_value", None)
    if getattr(parameter, "ndim", 0) == 2 and parameter.device.type != "meta" and not parameter.T.is_contiguous():
        parameter.data = parameter.data.T.contiguous().T


def _laid_out_like(parameter, tensor):
    """`tensor`, or a copy of it with `parameter`'s strides (elementwise fused kernels walk memory in order)."""
    if tensor.stride() == parameter.stride():
        return tensor
    copy = torch.empty_like(parameter, dtype=tensor.dtype)
    copy.copy_(tensor)
    return copy


def _slot_like(slot, parameter):
    """An optimizer slot's tensor in its weight's layout (changed in place the first time, after `use_lstm_layout`),
    as an `_in_order` view."""
    value = slot.value
    if value.stride() != parameter.stride():
        value.data = _laid_out_like(parameter, value.data)
    return _in_order(value)


def _in_order(tensor):
    """A contiguous view of a column-major matrix (its transpose): the fused kernels copy strided tensors in and
    out (4x slower), and an elementwise update does not care which view it walks."""
    if tensor.dim() == 2 and not tensor.is_contiguous() and tensor.T.is_contiguous():
        return tensor.T
    return tensor


def gaussian_logsumexp(z, mean, log_var, bias=None):
    """logsumexp_j [log N(z[m, i, u]; mean[j, u], exp(log_var[j, u])) + bias[i, j]]: (m, B_i, D) for z (m, B_i, D),
    mean and log_var (B_j, D), bias (B_i, B_j) of 0 / -inf or None; see `_GaussianLogSumExp`."""
    z, mean, log_var = (ops.convert_to_tensor(t) for t in (z, mean, log_var))
    bias = None if bias is None else ops.convert_to_tensor(bias)
    return _GaussianLogSumExp.apply(z, mean, log_var, bias)


class _GaussianLogSumExp(torch.autograd.Function):
    """DensityGap's pairwise term with its gradient written out, on 2 tensors of the pairwise shape
    (m, B_i, B_j, D) instead of autograd's ~10 (each a fresh allocation on CPU): 1.75x faster forward + backward
    at M=32, B=128, D=32 on 2 CPU cores.

    Forward, with d = z_i - mean_j and r = softmax_j of the pairwise log-densities p:
        p = -0.5 (log 2pi + log_var_j) - 0.5 d^2 exp(-log_var_j),   out = logsumexp_j p
    Backward, with G = r * grad_out:
        dz_i = -sum_j G d exp(-log_var_j),   dmean_j = sum_i G d exp(-log_var_j),
        dlog_var_j = 0.5 sum_i G (d^2 exp(-log_var_j) - 1)
    """

    @staticmethod
    def forward(ctx, z, mean, log_var, bias):
        precision = torch.exp(-log_var)
        d = z[:, :, None, :] - mean
        p = torch.addcmul(-0.5 * (LOG_2PI + log_var), d.square(), -0.5 * precision)
        if bias is not None:
            p.add_(bias[None, :, :, None])
        top = p.amax(dim=2, keepdim=True)
        r = p.sub_(top).exp_()
        total = r.sum(dim=2, keepdim=True)
        r.div_(total)
        ctx.save_for_backward(d, r, precision)
        return total.log_().add_(top).squeeze(2)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        d, r, precision = ctx.saved_tensors
        g = r * grad[:, :, None, :]
        g_sum = g.sum(dim=(0, 1))
        t = g.mul_(d).mul_(precision)  # G d exp(-log_var)
        grad_z = -t.sum(dim=2)
        grad_mean = t.sum(dim=(0, 1))
        grad_log_var = 0.5 * (t.mul_(d).sum(dim=(0, 1)) - g_sum)
        return grad_z, grad_mean, grad_log_var, None


def samples_per_chunk(z, pool_mean, chunk_bytes=4 * 2**20):
    """Samples per slice of DensityGap's (M, B_i, B_j, D) tensor: on CPU as many as fit in `chunk_bytes` (at least
    one): each elementwise pass then stays in cache (measured 2.5x faster forward + backward at M=32, B=128, D=32
    on 2 cores); on accelerators all M at once."""
    if z.device.type != "cpu":
        return z.shape[0]
    per_sample = z.shape[1] * pool_mean.shape[0] * z.shape[2] * z.element_size()
    return max(1, chunk_bytes // max(per_sample, 1))


def _scalar(value):
    """A Keras variable, tensor or number holding one value, as a float (without NumPy's `__array__` protocol,
    which warns on Keras variables under PyTorch)."""
    value = getattr(value, "value", value)
    return float(value.item() if hasattr(value, "item") else value)


def fused_adam_update(optimizer, grads, variables, learning_rate):
    """Keras's Adam update (`keras.optimizers.Adam.update_step`) for all `variables` in one `torch._fused_adam_`
    call. PyTorch divides sqrt(v) by sqrt(1 - b2^t) before adding eps; passing eps / sqrt(1 - b2^t) gives Keras's
    w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), with amsgrad's running max of v in place of v as in
    Keras. Returns False (nothing done) for weights of mixed dtypes or devices, which `_fused_adam_` does not take."""
    if not variables:
        return False
    params = [v.value for v in variables]
    if len({(p.dtype, p.device) for p in params}) > 1 or not params[0].is_floating_point():
        return False
    index = optimizer._get_variable_index
    slots = [optimizer._momentums, optimizer._velocities] + ([optimizer._velocity_hats] if optimizer.amsgrad else [])
    momentums, velocities, *maxima = (
        [_slot_like(slot[index(v)], p) for v, p in zip(variables, params)] for slot in slots
    )
    maxima = maxima[0] if maxima else []
    grads = [_in_order(_laid_out_like(p, g.to(p.dtype))) for p, g in zip(params, grads)]
    params = [_in_order(p) for p in params]
    step = _scalar(optimizer.iterations) + 1.0
    step_tensor = torch.tensor(step, dtype=torch.float32, device=params[0].device)
    bias_correction_2 = 1.0 - float(optimizer.beta_2) ** step
    with torch.no_grad():
        torch._fused_adam_(
            params,
            grads,
            momentums,
            velocities,
            maxima,
            [step_tensor] * len(params),
            amsgrad=bool(optimizer.amsgrad),
            lr=_scalar(learning_rate),
            beta1=float(optimizer.beta_1),
            beta2=float(optimizer.beta_2),
            weight_decay=0.0,
            eps=float(optimizer.epsilon) / bias_correction_2**0.5,
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )
    return True
