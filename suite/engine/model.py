"""The model of chapter 3: an MLP 784-hidden-10 built from a TrainConfig, in plain torch.

    from suite.engine.model import build_model

Each run of a stack (``suite.engine.stack``) takes its initial weights from this model under its
seed, and the reference loop (``suite.engine.trainer.train``) trains it directly.
"""

from __future__ import annotations

from torch import nn

from suite.spec.config import TrainConfig


def build_model(cfg: TrainConfig, in_features: int = 784, classes: int = 10) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_features
    for hidden in cfg.hidden:
        if cfg.dropout:
            layers.append(nn.Dropout(cfg.dropout))
        layers.append(nn.Linear(width, hidden))
        if cfg.batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        width = hidden
    if cfg.dropout and cfg.hidden:
        layers.append(nn.Dropout(cfg.dropout))
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)
