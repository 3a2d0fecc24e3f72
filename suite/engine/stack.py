"""K runs of the book's MLP as one stacked model: every per-run difference is data, not code.

    from suite.engine.stack import Stack
    stack = Stack([(cfg_a, 0), (cfg_b, 1)], features=784, device=torch.device("cpu"))
    stack.step(idx, pixels, labels)   # idx [K, B]: one optimizer step of every live run
    stack.evaluate(x, y)       # per-run summed loss and correct count, on the device

Used by ``suite.engine.trainer.train_stack``, which owns the epoch loop and the CUDA graph. Runs in one stack share the
model shape (hidden widths, batch norm) and the batch size; everything else is a per-run tensor
with a leading K dimension: input scale, learning rate, optimizer (SGD or Adam, selected per run),
dropout rate and masks, L1/L2 coefficients, train/eval mode (the book's eval-mode slip), batch-norm
statistics and divergence. A run's numbers do not depend on its stack-mates: each K-slice is
computed by its own batched matmul, batch norm is per channel, the loss is a sum of per-run
losses, and dropout masks are a hash of (seed, layer, step, position), not a shared generator.
On the CPU a stack of one reproduces the former one-model trainer bitwise (same init, shuffle,
kernels and optimizer arithmetic) for every config without dropout.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from suite.engine.fused import flat_zeros, shared
from suite.engine.model import build_model  # each run's initial weights: the plain model's, under its seed
from suite.engine.stack_ops import Linear, bcast, mix, per_run

BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, as the book uses them
EVAL_CHUNK = 10_000  # rows per forward pass when evaluating a whole split


class Stack:
    """Parameters, optimizer state and per-run settings of K runs; one ``step`` trains them all."""

    def __init__(self, runs: Sequence[tuple], features: int, device: torch.device, fused: str = "off"):

        cfgs = [cfg for cfg, _ in runs]
        first = cfgs[0]
        if any((c.hidden, c.batch_norm) != (first.hidden, first.batch_norm) for c in cfgs):
            raise ValueError("a stack's runs must share hidden widths and batch norm")
        self.cfgs, self.seeds, self.device = cfgs, [seed for _, seed in runs], device
        self.hidden, self.batch_norm = first.hidden, first.batch_norm
        k = len(cfgs)
        models, self.shufflers = [], []
        for cfg, seed in runs:
            torch.manual_seed(seed)  # the init, then the shuffle, as the one-model trainer had it
            models.append(build_model(cfg, features).to(device))
            shuffler = torch.Generator(device=device)
            if device.type == "cpu":  # shuffling continues the CPU stream that init advanced
                shuffler.set_state(torch.get_rng_state())
            else:  # init ran on the CPU: the device stream is still fresh
                shuffler.manual_seed(seed)
            self.shufflers.append(shuffler)
        linears = [[m for m in model if isinstance(m, nn.Linear)] for model in models]
        norms = [[m for m in model if isinstance(m, nn.BatchNorm1d)] for model in models]
        stacked = lambda ts: torch.stack([t.detach() for t in ts]).contiguous()  # noqa: E731
        # Linear weights keep nn.Linear's [out, in] layout: baddbmm on the transposed view then
        # runs the very GEMMs nn.Linear runs, forward and backward (bitwise equal on the CPU).
        self.weights = [stacked(m.weight for m in layer).requires_grad_() for layer in zip(*linears)]
        self.biases = [stacked(m.bias[None] for m in layer).requires_grad_() for layer in zip(*linears)]
        self.gammas = [stacked(m.weight for m in layer).requires_grad_() for layer in zip(*norms)]  # [K, H]
        self.betas = [stacked(m.bias for m in layer).requires_grad_() for layer in zip(*norms)]
        self.means = [stacked(m.running_mean for m in layer) for layer in zip(*norms)]
        self.vars = [stacked(m.running_var for m in layer) for layer in zip(*norms)]
        self.tracked = [torch.zeros(k, dtype=torch.long, device=device) for _ in self.means]
        self.pending: list[tuple[Tensor, Tensor]] = []  # running statistics to write after backward
        self._gather_params()
        # Per-run settings, as tensors so that a captured CUDA graph reads their current values.
        self.scale = per_run([c.input_scale for c in cfgs], device).view(k, 1, 1)
        self.lr = per_run([c.lr for c in cfgs], device, torch.float64)  # as torch keeps lr: a double
        self.is_adam = per_run([c.optimizer == "adam" for c in cfgs], device, torch.bool)
        for cfg in cfgs:
            if cfg.optimizer not in ("sgd", "adam"):
                raise ValueError(f"unknown optimizer {cfg.optimizer!r} (expected 'sgd' or 'adam')")
        self.any_adam, self.any_sgd = (any(c.optimizer == o for c in cfgs) for o in ("adam", "sgd"))
        self.l1 = per_run([c.l1 for c in cfgs], device) if any(c.l1 for c in cfgs) else None
        self.l2 = per_run([c.l2 for c in cfgs], device) if any(c.l2 for c in cfgs) else None
        self.dropout = per_run([c.dropout for c in cfgs], device) if any(c.dropout for c in cfgs) else None
        # Each run's dropout stream: a key per (seed, layer), mixed with the step and the position.
        self.keys = mix(
            mix(
                torch.tensor([[s * 1_000_003 + j for j in range(len(self.weights))] for s in self.seeds], device=device)
            )
        )
        self.any_slip = any(c.eval_mode_slip for c in cfgs)
        self.training = torch.ones(k, dtype=torch.bool, device=device)  # False: the slip's eval mode
        self.steps = torch.zeros((), dtype=torch.long, device=device)  # optimizer steps so far
        self.loss_sum = torch.zeros(k, device=device)  # this epoch's training loss, per run
        self.fused = shared(fused)  # one compiled update for the stack (suite.engine.fused), or None
        self.moments = self._zero_moments() if self.any_adam else []

    def _zero_moments(self) -> list[tuple[Tensor, Tensor]]:
        if self.fused is None:
            return [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]
        return list(zip(flat_zeros(self.params), flat_zeros(self.params)))  # one buffer per moment

    def _gather_params(self) -> None:
        # In nn.Sequential's order (Linear, BatchNorm1d, Linear...): the penalty sums them so.
        norm_params = [[g, b] for g, b in zip(self.gammas, self.betas)] + [[]] * (len(self.weights) - len(self.gammas))
        self.params = [t for w, b, n in zip(self.weights, self.biases, norm_params) for t in (w, b, *n)]

    # -- the model ------------------------------------------------------------------------------
    def _norm(self, h: Tensor, i: int, training: bool) -> Tensor:
        """Per-run BatchNorm1d as F.batch_norm over [B, K*H]: one channel per (run, unit)."""
        k, b, width = h.shape
        flat = h.transpose(0, 1).reshape(b, k * width)
        gamma, beta = self.gammas[i].view(-1), self.betas[i].view(-1)
        mean, var = self.means[i].view(-1), self.vars[i].view(-1)
        if not training:
            out = F.batch_norm(flat, mean, var, gamma, beta, False, 0.1, 1e-5)
            return out.view(b, k, width).transpose(0, 1)
        if not self.any_slip:
            out = F.batch_norm(flat, mean, var, gamma, beta, True, 0.1, 1e-5)
        else:  # runs in the slip's eval mode keep their frozen statistics, not the batch's
            updated = (mean.clone(), var.clone())  # written back after backward (saved tensors)
            batch = F.batch_norm(flat, *updated, gamma, beta, True, 0.1, 1e-5)
            frozen = F.batch_norm(flat, mean, var, gamma, beta, False, 0.1, 1e-5)
            out = torch.where(self.training.view(k, 1).expand(k, width).reshape(-1), batch, frozen)
            mask = self.training.view(k, 1)
            self.pending += [
                (mean, torch.where(mask, updated[0].view(k, width), mean.view(k, width))),
                (var, torch.where(mask, updated[1].view(k, width), var.view(k, width))),
            ]
        self.tracked[i] += self.training
        return out.view(b, k, width).transpose(0, 1)

    def _drop(self, h: Tensor, layer: int) -> Tensor:
        """Inverted dropout with each run's own masks: a hash of (seed, layer, step, position)."""
        k, b, width = h.shape
        rate = torch.where(self.training, self.dropout, 0.0).view(k, 1, 1)
        stream = mix(self.keys[:, layer] ^ mix(self.steps)).view(k, 1, 1)
        position = torch.arange(b * width, device=h.device).view(1, b, width)
        uniform = (mix(stream + position) >> 8).float() * 2.0**-24
        return h * ((uniform >= rate) / (1 - rate))

    def forward(self, x: Tensor, training: bool) -> Tensor:
        """Logits [K, B, classes] of inputs [K, B, features]; ``training=False``: eval mode for all."""
        h = x
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            if training and self.dropout is not None and self.hidden:
                h = self._drop(h, i)
            h = Linear.apply(h, weight, bias)
            if i < len(self.hidden):
                h = self._norm(h, i, training) if self.batch_norm else h
                h = h.relu()
        return h

    def _penalty(self) -> Tensor | float:
        """Per run [K]: l1 * sum_p ||p||_1 + l2 * sum_p ||p||_2 over that run's parameters."""
        penalty: Tensor | float = 0.0
        if self.l1 is not None:
            penalty = penalty + self.l1 * sum(p.abs().flatten(1).sum(1) for p in self.params)
        if self.l2 is not None:
            penalty = penalty + self.l2 * sum(torch.linalg.vector_norm(p.flatten(1), dim=1) for p in self.params)
        return penalty

    # -- one step -------------------------------------------------------------------------------
    def step(self, idx: Tensor, pixels: Tensor, labels: Tensor) -> None:
        """Forward, backward and update of every run on its batch ``pixels[idx[k]]``; no host sync."""
        k, b = idx.shape
        x = pixels[idx] * self.scale
        logits = self.forward(x, True)
        target = labels[idx]
        if self.device.type == "cpu":  # nll_loss's own sum per run: the one-model trainer's loss, bitwise
            loss = torch.stack([F.cross_entropy(logits[r], target[r], reduction="sum") for r in range(k)]) / b
        else:  # one reduction for the stack inside the CUDA graph: the same gradient, other rounding
            loss = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view(k, b).mean(1)
        loss = loss + self._penalty()  # a diverged or finished run has left the stack (``keep``)
        grads = torch.autograd.grad(loss.sum(), self.params)
        with torch.no_grad():
            self._write_pending()
            self.steps += 1
            self._update(grads)
            self.loss_sum += loss

    def _write_pending(self) -> None:
        for buffer, value in self.pending:
            buffer.copy_(value.view(-1))
        self.pending.clear()

    def _update(self, grads: Sequence[Tensor]) -> None:
        """Each run's own SGD or Adam step with its own learning rate: torch's arithmetic, per run.

        The moments are updated for all parameters at once (torch._foreach_*: one fused kernel
        per operation on CUDA, the same per-tensor kernels on the CPU); only the last step, whose
        size differs per run, is applied per parameter.
        """
        grads = list(grads)
        if (
            self.fused is not None and self.any_adam
        ):  # one fused update (SGD-only stacks: one kernel a parameter already)
            firsts, seconds = [m for m, _ in self.moments], [v for _, v in self.moments]
            return self.fused(self.params, grads, firsts, seconds, self.lr, self.is_adam, self.steps)
        if self.any_adam:  # torch's Adam without capturable: bias corrections in double precision
            count = self.steps.double()
            step_size = (-(self.lr / (1 - BETAS[0] ** count))).float()
            root = ((1 - BETAS[1] ** count) ** 0.5).float()
            firsts, seconds = [m for m, _ in self.moments], [v for _, v in self.moments]
            torch._foreach_lerp_(firsts, grads, 1 - BETAS[0])
            torch._foreach_mul_(seconds, BETAS[1])
            torch._foreach_addcmul_(seconds, grads, grads, value=1 - BETAS[1])
            denoms = torch._foreach_sqrt(seconds)
            torch._foreach_div_(denoms, root)
            torch._foreach_add_(denoms, ADAM_EPS)
        neg_lr = (-self.lr).float()
        # A stack of one optimizer updates in place, without the new tensor per parameter (filled,
        # selected, copied back) that a mixed stack needs: ~1 ms a step on the CPU. On the CPU a
        # stack of one passes its Adam step size as addcdiv's value, as torch's Adam does: the
        # same rounding as multiplying by it first (value * m / d), without a pass over m.
        scalar = step_size.item() if self.any_adam and len(self.cfgs) == 1 and self.device.type == "cpu" else None
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if not self.any_adam:
                p.addcmul_(g, bcast(neg_lr, p))  # == p.add_(g, alpha=-lr)
            elif scalar is not None:
                p.addcdiv_(firsts[i], denoms[i], value=scalar)
            elif not self.any_sgd:
                p.addcdiv_(firsts[i] * bcast(step_size, p), denoms[i])
            else:
                p.copy_(
                    torch.where(
                        bcast(self.is_adam, p),
                        p.addcdiv(firsts[i] * bcast(step_size, p), denoms[i]),
                        p.addcmul(g, bcast(neg_lr, p)),
                    )
                )

    @torch.no_grad()
    def keep(self, slots: Sequence[int]) -> None:
        """Shrink the stack to the runs at SLOTS (in that order): finished runs leave, so that no
        step is spent on them. Every per-run tensor is indexed along its run dimension; nothing
        a kept run computes depends on the runs beside it, so its numbers do not change."""
        index = torch.tensor(list(slots), dtype=torch.long, device=self.device)
        pick = lambda t: t.index_select(0, index)  # noqa: E731 - a new contiguous tensor
        leaf = lambda t: pick(t.detach()).requires_grad_()  # noqa: E731
        self.weights, self.biases = [leaf(w) for w in self.weights], [leaf(b) for b in self.biases]
        self.gammas, self.betas = [leaf(g) for g in self.gammas], [leaf(b) for b in self.betas]
        self.means, self.vars = [pick(m) for m in self.means], [pick(v) for v in self.vars]
        self.tracked = [pick(t) for t in self.tracked]
        self.cfgs = [self.cfgs[k] for k in slots]
        self.seeds = [self.seeds[k] for k in slots]
        self.shufflers = [self.shufflers[k] for k in slots]
        for name in ("scale", "lr", "is_adam", "l1", "l2", "dropout", "keys", "training", "loss_sum"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, pick(value))
        self._gather_params()
        # The update's branches are chosen by which optimizers remain (same arithmetic either way).
        self.any_adam, self.any_sgd = (any(c.optimizer == o for c in self.cfgs) for o in ("adam", "sgd"))
        moments = [(pick(m), pick(v)) for m, v in self.moments] if self.any_adam else []
        self.moments = self._zero_moments() if self.any_adam else []
        for (m, v), (kept_m, kept_v) in zip(self.moments, moments):
            m.copy_(kept_m)
            v.copy_(kept_v)

    # -- evaluation and results -----------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, pixels: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Summed cross-entropy and correct count per run [K] over a split, in eval mode; no sync."""
        k = len(self.cfgs)
        loss = torch.zeros(k, device=pixels.device)
        correct = torch.zeros(k, device=pixels.device, dtype=torch.long)
        for start in range(0, len(labels), EVAL_CHUNK):
            target = labels[start : start + EVAL_CHUNK]
            logits = self.forward(pixels[start : start + EVAL_CHUNK] * self.scale, False)
            # One reduction per run: F.cross_entropy's own sum, as the one-model trainer summed.
            loss += torch.stack([F.cross_entropy(logits[r], target, reduction="sum") for r in range(k)])
            correct += (logits.argmax(2) == target).sum(1)
        return loss, correct

    @torch.no_grad()
    def train_mode_accuracy(
        self,
        runs: Tensor,
        pixels: Tensor,
        labels: Tensor,
        order: Tensor,
        batch: int,
        val_pixels: Tensor,
        val_labels: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """Correct counts [K] the way the book's batch-norm notebook measured its epoch 1, for RUNS.

        Its accuracy function ran the model in train mode (its ``model.eval()`` came later, in the
        validation loss): over the training batches of ORDER [K, N], BATCH images each (batch
        statistics, each batch updating the running statistics), then over the validation split
        as one batch. Only the
        runs in the mask RUNS [K] change; the others keep their statistics (and get counts they
        do not use). The notebook drew a fresh shuffle for this pass; the epoch's order is reused
        here, so that the run's shuffle stream stays the one its training draws from.
        """
        saved = self.training.clone()
        self.training.copy_(runs)
        train_correct = torch.zeros(len(self.cfgs), dtype=torch.long, device=pixels.device)
        for first in range(0, order.shape[1], batch):
            idx = order[:, first : first + batch]
            logits = self.forward(pixels[idx] * self.scale, True)
            self._write_pending()
            train_correct += (logits.argmax(2) == labels[idx]).sum(1)
        logits = self.forward(val_pixels * self.scale, True)
        self._write_pending()
        val_correct = (logits.argmax(2) == val_labels).sum(1)
        self.training.copy_(saved)
        return train_correct, val_correct

    @torch.no_grad()
    def unstack(self, k: int) -> nn.Sequential:
        """Run K's current model as the book's nn.Sequential (for histograms and probes)."""

        model = build_model(self.cfgs[k], self.weights[0].shape[2]).to(self.device)
        for module, weight, bias in zip((m for m in model if isinstance(m, nn.Linear)), self.weights, self.biases):
            module.weight.copy_(weight[k])
            module.bias.copy_(bias[k, 0])
        norms = (m for m in model if isinstance(m, nn.BatchNorm1d))
        for i, module in enumerate(norms):
            module.weight.copy_(self.gammas[i][k])
            module.bias.copy_(self.betas[i][k])
            module.running_mean.copy_(self.means[i][k])
            module.running_var.copy_(self.vars[i][k])
            module.num_batches_tracked.copy_(self.tracked[i][k])
        return model
