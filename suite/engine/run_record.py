"""How a finished run becomes its stored record: final-weight and activation histograms, the
weights' mean size, and the ``RunRecord`` (``suite.store.run_records``) the results file keeps.

    from suite.engine.run_record import serialize, activation_record
    record = serialize(result, activations=activation_record(result.model, val_pixels), stack=stack)
"""

from __future__ import annotations

import torch

from suite.engine.trainer import RunResult
from suite.store.run_records import RunRecord, StackRecord

HIST_BINS = 60  # bins of every stored weight/bias/activation histogram


def histogram(values: torch.Tensor) -> dict:
    values = values.detach().float().flatten().cpu()
    finite = values[torch.isfinite(values)]
    if len(finite) == 0:
        return {"edges": [], "counts": [], "nonfinite": len(values)}
    low, high = finite.min().item(), finite.max().item()
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = torch.histogram(finite, bins=HIST_BINS, range=(low, high))
    return {
        "edges": edges.tolist(),
        "counts": counts.long().tolist(),
        "nonfinite": len(values) - len(finite),
        "mean": finite.mean().item(),
        "std": finite.std().item() if len(finite) > 1 else 0.0,
    }


def parameter_record(model: torch.nn.Module) -> dict:
    """Histograms of each Linear layer's weights and biases, named as the book does: layer 1, 2..."""
    layers = [m for m in model if isinstance(m, torch.nn.Linear)]
    return {f"layer{i}": {"weight": histogram(m.weight), "bias": histogram(m.bias)} for i, m in enumerate(layers, 1)}


def weight_abs_mean(model: torch.nn.Module) -> float:
    weights = [m.weight.detach() for m in model if isinstance(m, torch.nn.Linear)]
    return (sum(w.abs().sum() for w in weights) / sum(w.numel() for w in weights)).item()


@torch.no_grad()
def activation_record(model: torch.nn.Module, x: torch.Tensor) -> dict:
    """Distribution of the first hidden layer's values on validation images, in eval mode.

    'pre' is what the ReLU receives (after batch norm, if any), 'post' what it outputs.
    """
    model.eval()
    record, h = {}, x
    for module in model:
        h = module(h)
        if isinstance(module, torch.nn.ReLU):
            record["post"] = histogram(h)
            break
        record["pre"] = histogram(h) if not isinstance(module, torch.nn.Dropout) else record.get("pre")
    return record


def serialize(result: RunResult, *, activations: dict | None = None, stack: StackRecord | None = None) -> RunRecord:
    """The stored record of one finished run."""
    return RunRecord(
        seed=result.seed,
        history=result.history,
        diverged_epoch=result.diverged_epoch,
        wall_s=result.wall_s,
        weight_abs_mean=weight_abs_mean(result.model),
        parameters=parameter_record(result.model),
        activations=activations,
        stack=stack,
    )
