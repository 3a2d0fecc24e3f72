"""Runs the variants of an ablation over seeds and turns the results into plain, storable data.

    from suite.runner import Workbench
    bench = Workbench(profile=PROFILES["ci"], device="cpu")
    record = bench.run_variant(ABLATIONS["scaling"], "scaled", seeds=[0, 1, 2])

This is the glue between the experiment specs (``suite.ablations``) and the trainer, used by the
pytest plugin and by the flake-rate script alike.
"""

from __future__ import annotations

from typing import Callable

import torch

from suite.ablations import Ablation, Profile
from suite.data import Split, load_split, resolve_root
from suite.trainer import RunResult, TrainConfig, train, train_stack

HIST_BINS = 60  # bins of every stored weight/bias/activation histogram


def resolve_device(requested: str) -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without CUDA is an error, never a silent CPU run."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--ablation-device cuda was asked for, but torch sees no CUDA device "
                           f"(torch {torch.__version__}, built for CUDA {torch.version.cuda})")
    return torch.device(requested)


def histogram(values: torch.Tensor) -> dict:
    values = values.detach().float().flatten().cpu()
    finite = values[torch.isfinite(values)]
    if len(finite) == 0:
        return {"edges": [], "counts": [], "nonfinite": len(values)}
    low, high = finite.min().item(), finite.max().item()
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = torch.histogram(finite, bins=HIST_BINS, range=(low, high))
    return {"edges": edges.tolist(), "counts": counts.long().tolist(),
            "nonfinite": len(values) - len(finite), "mean": finite.mean().item(),
            "std": finite.std().item() if len(finite) > 1 else 0.0}


def parameter_record(model: torch.nn.Module) -> dict:
    """Histograms of each Linear layer's weights and biases, named as the book does: layer 1, 2..."""
    layers = [m for m in model if isinstance(m, torch.nn.Linear)]
    return {f"layer{i}": {"weight": histogram(m.weight), "bias": histogram(m.bias)}
            for i, m in enumerate(layers, 1)}


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


def serialize(result: RunResult, *, activations: dict | None = None) -> dict:
    return {
        "seed": result.seed,
        "history": result.history,
        "diverged_epoch": result.diverged_epoch,
        "wall_s": result.wall_s,
        "weight_abs_mean": weight_abs_mean(result.model),
        "parameters": parameter_record(result.model),
        **({"activations": activations} if activations is not None else {}),
    }


class Workbench:
    """Owns the device-resident data of one profile and runs variants on it."""

    def __init__(self, profile: Profile, device: str = "auto", data_dir: str | None = None):
        self.profile = profile
        self.device = resolve_device(device)
        self.data_dir = data_dir
        self._splits: tuple[Split, Split] | None = None

    @property
    def splits(self) -> tuple[Split, Split]:
        if self._splits is None:  # loaded on first use, once per session
            root = resolve_root(self.data_dir)
            self._splits = (
                load_split(root, train=True, device=self.device, limit=self.profile.train_size),
                load_split(root, train=False, device=self.device, limit=self.profile.val_size),
            )
        return self._splits

    def run_variant(
        self,
        ablation: Ablation,
        variant: str,
        seeds: list[int],
        on_epoch: Callable[[int, int, dict], None] | None = None,
    ) -> dict:
        """Train VARIANT once per seed; ``on_epoch(seed, epoch, row)`` reports progress."""
        cfg: TrainConfig = ablation.config(variant, self.profile)
        train_split, val_split = self.splits
        # Interim: the seeds as one stack on a GPU, one run at a time on the CPU.
        if self.device.type == "cuda":
            results = train_stack([(cfg, seed) for seed in seeds], train=train_split, val=val_split,
                                  on_epoch=(lambda k, e, row: on_epoch(seeds[k], e, row)) if on_epoch else None)
        else:
            results = [train(cfg, seed=seed, train=train_split, val=val_split,
                             on_epoch=(lambda e, row, s=seed: on_epoch(s, e, row)) if on_epoch else None)
                       for seed in seeds]
        runs = []
        for result in results:
            activations = None
            if ablation.probe_activations:
                activations = activation_record(result.model, val_split.pixels.float() * cfg.input_scale)
            runs.append(serialize(result, activations=activations))
        return {"variant": variant, "label": ablation.variant(variant).label,
                "config": cfg.as_dict(), "runs": runs}

    @torch.no_grad()
    def mode_probe(self, cfg: TrainConfig, seeds: list[int]) -> list[dict]:
        """Train a dropout model briefly, then predict the validation split twice in each mode.

        Shows what forgetting ``model.eval()`` does: train mode keeps dropout on, so predictions
        change from call to call and accuracy drops; eval mode is deterministic.
        """
        train_split, val_split = self.splits
        x, y = val_split.pixels.float() * cfg.input_scale, val_split.labels
        rows = []
        for seed in seeds:
            with torch.enable_grad():
                model = train(cfg, seed=seed, train=train_split, val=val_split).model
            model.eval()
            first, second = model(x), model(x)
            model.train()
            noisy_first, noisy_second = model(x), model(x)
            rows.append({
                "seed": seed,
                "eval_max_abs_diff": (first - second).abs().max().item(),
                "train_max_abs_diff": (noisy_first - noisy_second).abs().max().item(),
                "eval_acc": (first.argmax(1) == y).float().mean().item(),
                "train_mode_acc": (noisy_first.argmax(1) == y).float().mean().item(),
                "changed_predictions": (first.argmax(1) != noisy_first.argmax(1)).float().mean().item(),
            })
        return rows
