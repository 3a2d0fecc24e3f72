"""What one training run is, as data: the config every part shares (no torch here).

    from suite.spec.config import TrainConfig
    TrainConfig(optimizer="adam", lr=1e-3, epochs=5).as_dict()

The trainer (``suite.engine.trainer``) trains it; the ablation specs (``suite.spec.chapter3``) derive every
variant's config from it; the report shows it for variants that never ran. A run is a
``(TrainConfig, seed)`` pair.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TrainConfig:
    """Defaults are the book's baseline model of chapter 3."""

    input_scale: float = 1 / 255  # multiplies raw 0..255 pixels; 1.0 trains on raw pixels
    hidden: tuple[int, ...] = (1000,)  # widths of the hidden layers; () is logistic regression
    batch_norm: bool = False  # BatchNorm1d between each hidden Linear and its ReLU
    dropout: float = 0.0  # probability; Dropout before the first Linear and after each ReLU
    optimizer: str = "sgd"  # "sgd" (plain, no momentum) or "adam", both torch defaults otherwise
    lr: float = 1e-2  # initial learning rate
    batch_size: int = 32  # images per step; capped at the training-set size
    epochs: int = 5  # full passes over the training split, reshuffled each time
    l1: float = 0.0  # adds l1 * sum_p ||p||_1 over all parameters to the loss (book, L1 section)
    l2: float = 0.0  # adds l2 * sum_p ||p||_2 (norms, not squared: the book's L2 section)
    plateau_factor: float = 0.0  # >0 enables ReduceLROnPlateau on validation loss with this factor
    plateau_patience: int = 0  # epochs without improvement before a cut
    plateau_threshold: float = 1e-3  # absolute improvement in validation loss that counts
    plateau_min_lr: float = 1e-5  # the learning rate is never cut below this
    # Reproduce the book's BN notebook: epoch 1's accuracies measured in train mode, as its accuracy
    # function did (updating the running statistics), then training in eval mode, statistics frozen.
    eval_mode_slip: bool = False

    def as_dict(self) -> dict:
        return asdict(self)
