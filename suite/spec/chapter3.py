"""The ablations of chapter 3 as data: variants are overrides of the baseline config.

    from suite.spec.chapter3 import ABLATIONS
    from suite.spec.profiles import PROFILES
    ABLATIONS["scaling"].config("scaled", PROFILES["ci"])   # -> a TrainConfig

Nothing here imports torch: the report reads the same specs. Each ablation carries the book's
settings (``base``), what the ``ci`` profile shrinks (``ci``), and its claims; the profiles
themselves (data sizes, seeds) are in ``suite.spec.profiles``. The bounds of the claims were
calibrated on seeds other than the ones the flake rate is measured on: see docs/calibration.md
for the numbers and the command that reproduces them.
"""

from __future__ import annotations

from suite.spec.ablation import Ablation, Variant
from suite.spec.claims import Claim

ADAM_1E3 = dict(optimizer="adam", lr=1e-3)
CALIBRATED = "bound set from the calibration seeds, see docs/calibration.md"

ABLATIONS_LIST = [
    Ablation(
        name="scaling",
        title="Scaling the input",
        question=(
            "The book first trains on raw pixel values (0-255), then divides them by 255. Large "
            "inputs saturate the network and make the gradients of plain SGD unusable."
        ),
        base=dict(optimizer="sgd", lr=1e-2, epochs=5),
        ci=dict(epochs=3),
        variants=(
            Variant("raw", "raw pixels (0-255)", dict(input_scale=1.0)),
            Variant("scaled", "pixels / 255", dict(input_scale=1 / 255)),
        ),
        claims=(
            Claim(
                "Scaled input reaches a higher validation accuracy than raw input",
                "val_acc",
                "scaled",
                "raw",
                at_least=0.05,
                why=CALIBRATED,
            ),
        ),
    ),
    Ablation(
        name="batch_size",
        title="Batch size",
        question=(
            "Batch 32 gives 1875 weight updates per epoch on 60k images; batch 10,000 gives 6. "
            "With the same number of epochs, the small batch learns far more."
        ),
        base=dict(optimizer="adam", lr=1e-2, epochs=5),
        ci=dict(epochs=3),
        variants=(
            Variant("b32", "batch 32", dict(batch_size=32)),
            Variant("b10000", "batch 10,000", dict(batch_size=10_000)),
        ),
        claims=(
            Claim(
                "Batch 32 is far ahead of batch 10,000 after one epoch",
                "val_acc",
                "b32",
                "b10000",
                epoch=1,
                at_least=0.10,
                why=CALIBRATED,
            ),
            Claim(
                "Batch 32 is still ahead of batch 10,000 at the last epoch",
                "val_acc",
                "b32",
                "b10000",
                at_least=0.01,
                why=CALIBRATED,
            ),
        ),
        book_note=(
            "In the ci profile the training subset (6k images) is smaller than 10,000, so the "
            "large batch is the whole subset: one update per epoch instead of the book's six."
        ),
    ),
    Ablation(
        name="optimizer",
        title="Optimizer",
        question="SGD and Adam at the same learning rate, 0.01: Adam adapts a step size per weight.",
        base=dict(lr=1e-2, epochs=10),
        ci=dict(epochs=5),
        variants=(Variant("sgd", "SGD", dict(optimizer="sgd")), Variant("adam", "Adam", dict(optimizer="adam"))),
        claims=(
            Claim(
                "Adam is clearly ahead of SGD after one epoch",
                "val_acc",
                "adam",
                "sgd",
                epoch=1,
                at_least=0.03,
                why=CALIBRATED,
                profiles=(
                    (
                        "book",
                        dict(
                            at_least=0.015,
                            why=(
                                "book profile: bound from 18 CPU seeds (base seeds 200-205), where Adam led by "
                                "3.9 ± 1.1 points per seed (lowest 0.7) and by 3.1 to 4.3 in each 3-seed mean; the "
                                "ci profile's 3 points would fail about 8% of runs. Not yet checked on fresh "
                                "seeds (docs/calibration.md)"
                            ),
                        ),
                    ),
                ),
            ),
            Claim(
                "By the last epoch SGD has caught up (within 3 points)",
                "val_acc",
                "adam",
                "sgd",
                at_least=-0.03,
                at_most=0.03,
                asserted=False,
                why="reported: 'similar' depends on the epoch budget, which the ci profile halves",
            ),
        ),
    ),
    Ablation(
        name="lr_scaled",
        title="Learning rate, scaled input",
        question="Adam with learning rates 0.1, 0.001 and 0.00001 on input divided by 255.",
        base=dict(ADAM_1E3, epochs=5),
        ci=dict(epochs=3),
        variants=(
            Variant("lr1e-1", "lr 0.1", dict(lr=1e-1)),
            Variant("lr1e-3", "lr 0.001", dict(lr=1e-3)),
            Variant("lr1e-5", "lr 0.00001", dict(lr=1e-5)),
        ),
        claims=(
            Claim("lr 0.001 beats lr 0.1 (too high)", "val_acc", "lr1e-3", "lr1e-1", at_least=0.05, why=CALIBRATED),
            Claim("lr 0.001 beats lr 0.00001 (too slow)", "val_acc", "lr1e-3", "lr1e-5", at_least=0.02, why=CALIBRATED),
            Claim(
                "lr 0.00001 still learns (far above the 10% of chance)",
                "val_acc",
                "lr1e-5",
                at_least=0.5,
                why=CALIBRATED,
            ),
        ),
        shows_parameters=True,
    ),
    Ablation(
        name="lr_raw",
        title="Learning rate, raw input",
        question=(
            "The same learning rates on raw pixels (0-255): with large inputs a large rate "
            "destroys the network, and only small rates learn."
        ),
        base=dict(ADAM_1E3, epochs=5, input_scale=1.0),
        ci=dict(epochs=3),
        variants=(
            Variant("lr1e-1", "lr 0.1", dict(lr=1e-1)),
            Variant("lr1e-3", "lr 0.001", dict(lr=1e-3)),
            Variant("lr1e-5", "lr 0.00001", dict(lr=1e-5)),
        ),
        claims=(
            Claim(
                "lr 0.1 fails completely on raw input (near chance; a diverged run counts as failed)",
                "val_acc",
                "lr1e-1",
                at_most=0.3,
                why=CALIBRATED,
            ),
            Claim(
                "lr 0.00001 learns on raw input where lr 0.1 fails",
                "val_acc",
                "lr1e-5",
                "lr1e-1",
                at_least=0.3,
                why=CALIBRATED,
            ),
        ),
        shows_parameters=True,
    ),
    Ablation(
        name="annealing",
        title="Learning-rate annealing",
        question=(
            "ReduceLROnPlateau halves the learning rate whenever validation loss fails to improve "
            "by 0.001 (patience 0, floor 0.00001), against a constant rate of 0.001."
        ),
        base=dict(ADAM_1E3, epochs=30),
        ci=dict(epochs=10),
        variants=(
            Variant("constant", "constant lr 0.001"),
            Variant("plateau", "ReduceLROnPlateau", dict(plateau_factor=0.5)),
        ),
        claims=(
            Claim(
                "The learning rate is cut when validation loss plateaus",
                "lr",
                "plateau",
                at_most=0.5e-3,
                why="at least one halving of 0.001 by the last epoch",
            ),
            Claim(
                "Validation loss ends no worse than with a constant rate",
                "val_loss",
                "plateau",
                "constant",
                at_most=0.0,
                why=CALIBRATED,
            ),
        ),
    ),
    Ablation(
        name="depth",
        title="Depth",
        question="No hidden layer (logistic regression), one and two hidden layers of 1000 units.",
        base=dict(ADAM_1E3, epochs=5),
        ci=dict(epochs=3),
        variants=(
            Variant("h0", "no hidden layer", dict(hidden=())),
            Variant("h1", "1 hidden layer", dict(hidden=(1000,))),
            Variant("h2", "2 hidden layers", dict(hidden=(1000, 1000))),
        ),
        claims=(
            Claim(
                "A hidden layer learns better than none (lower validation loss)",
                "val_loss",
                "h1",
                "h0",
                at_most=-0.02,
                why=(
                    "validation loss, not accuracy: after 3 ci epochs on 6k images "
                    "the accuracy difference is within seed noise in 8 of 28 seeds"
                ),
            ),
            Claim(
                "Two hidden layers overfit more than one (higher validation loss)",
                "val_loss",
                "h2",
                "h1",
                at_least=0.0,
                asserted=False,
                why="reported: the sign of this difference flips between seeds (docs/calibration.md)",
            ),
        ),
    ),
    Ablation(
        name="batch_norm",
        title="Batch normalization",
        question=(
            "Input divided by 255 x 10,000, so every input value is tiny. Without batch norm the "
            "hidden layer sees almost nothing; BatchNorm1d rescales its pre-activations."
        ),
        base=dict(ADAM_1E3, epochs=100, input_scale=1 / (255 * 10_000)),
        ci=dict(epochs=8),
        variants=(
            Variant("no_bn", "no batch norm"),
            Variant("bn", "batch norm", dict(batch_norm=True)),
            Variant("bn_book_slip", "batch norm, book's eval-mode slip", dict(batch_norm=True, eval_mode_slip=True)),
        ),
        claims=(
            Claim(
                "With tiny inputs and no batch norm the model is near chance after one epoch",
                "val_acc",
                "no_bn",
                epoch=1,
                at_most=0.3,
                why=CALIBRATED,
                profiles=(
                    (
                        "book",
                        dict(
                            asserted=False,
                            why=(
                                "reported in the book profile: one full epoch is 1,875 steps, enough to learn even "
                                "from tiny inputs: 0.538 (0.554, 0.543, 0.518) on an H100, seeds 0-2, and the book's "
                                "own figure shows about 58%. Near chance in the ci profile's 188-step epoch"
                            ),
                        ),
                    ),
                ),
            ),
            Claim(
                "Batch norm learns faster at first: ahead of no batch norm after one epoch",
                "val_acc",
                "bn",
                "no_bn",
                epoch=1,
                at_least=0.03,
                why=CALIBRATED,
                profiles=(
                    (
                        "book",
                        dict(
                            asserted=False,
                            why=(
                                "reported in the book profile: after a full epoch no batch norm is ahead; "
                                "-0.217 (-0.221, -0.269, -0.160) on an H100, seeds 0-2, stacked trainer "
                                "(-0.079 with the former one); not yet calibrated on more seeds"
                            ),
                        ),
                    ),
                ),
            ),
            Claim(
                "Batch norm keeps its lead to the last epoch",
                "val_acc",
                "bn",
                "no_bn",
                at_least=0.0,
                asserted=False,
                why=(
                    "reported: with inputs this small the variance of a hidden unit is far below "
                    "BatchNorm1d's eps (1e-5), so normalization cannot restore the scale; in the ci "
                    "profile no batch norm catches up by epoch 6 in most seeds; in the book profile "
                    "batch norm ends far behind: -0.555 (-0.579, -0.627, -0.460) at epoch 100, H100"
                ),
            ),
            Claim(
                "The book's figure shows its eval-mode slip: frozen epoch-1 statistics learn much "
                "faster than no batch norm",
                "val_acc",
                "bn_book_slip",
                "no_bn",
                at_least=0.1,
                why=CALIBRATED,
                profiles=(
                    (
                        "book",
                        dict(
                            asserted=False,
                            why=(
                                "reported in the book profile: over 100 epochs no batch norm catches up with the "
                                "slip (85.3% vs 85.9%): +0.006 (+0.013, +0.007, -0.001) at the last epoch on an "
                                "H100, seeds 0-2; not yet calibrated on more seeds"
                            ),
                        ),
                    ),
                ),
            ),
        ),
        book_note=(
            "The book's figure shows its eval-mode slip, not batch normalization: its validation-loss "
            "function calls model.eval() and nothing calls model.train() again, so from epoch 2 its "
            "model trains with the running statistics of epoch 1 frozen (its epoch-1 accuracies were "
            "still measured in train mode). The variant 'bn_book_slip' reproduces both. Correct batch "
            "norm behaves otherwise on inputs this small: a hidden unit's variance (about 1e-10 at the "
            "start) is far below BatchNorm1d's eps (1e-5), so it divides by about the square root of "
            "eps instead of the unit's spread. On the ci profile's 6k images it starts ahead of no batch "
            "norm; over the book's 100 epochs on 60k images it ends far behind (29.7% against 85.3% "
            "validation accuracy on an H100, seeds 0-2), while the slip reaches 85.9%."
        ),
        probe_activations=True,
        shows_parameters=True,
    ),
    Ablation(
        name="dropout",
        title="Dropout",
        question=(
            "Dropout(0.25) before the first Linear layer and after the ReLU: a random quarter of "
            "the units is silenced at each step, which discourages memorizing the training set."
        ),
        base=dict(ADAM_1E3, epochs=30),
        ci=dict(epochs=10),
        variants=(Variant("none", "no dropout"), Variant("p0.25", "dropout 0.25", dict(dropout=0.25))),
        claims=(
            Claim(
                "Dropout narrows the gap between train and validation accuracy",
                "gap_acc",
                "p0.25",
                "none",
                at_most=-0.005,
                why=CALIBRATED,
            ),
        ),
        book_note=(
            "The book's accuracy function never switches to eval mode, so its dropout accuracies "
            "were measured with dropout active. Here every accuracy is measured in eval mode."
        ),
    ),
    Ablation(
        name="l1",
        title="L1 regularization",
        question="Adds 0.0001 x the sum of |w| over all parameters to the loss.",
        base=dict(ADAM_1E3, epochs=30),
        ci=dict(epochs=10),
        variants=(Variant("none", "no penalty"), Variant("l1", "L1 1e-4", dict(l1=1e-4))),
        claims=(
            Claim(
                "L1 narrows the gap between train and validation accuracy",
                "gap_acc",
                "l1",
                "none",
                at_most=-0.005,
                why=CALIBRATED,
            ),
            Claim(
                "L1 shrinks the weights (mean |w|, relative)",
                "weight_abs_mean",
                "l1",
                "none",
                relative=True,
                at_most=-0.1,
                why=CALIBRATED,
            ),
        ),
    ),
    Ablation(
        name="l2",
        title="L2 regularization",
        question=(
            "Adds 0.01 x the sum of the parameters' L2 norms to the loss. The book adds the norms, "
            "not their squares (classic weight decay); this suite keeps the book's form."
        ),
        base=dict(ADAM_1E3, epochs=30),
        ci=dict(epochs=10),
        variants=(Variant("none", "no penalty"), Variant("l2", "L2 1e-2", dict(l2=1e-2))),
        claims=(
            Claim(
                "L2 narrows the gap between train and validation accuracy",
                "gap_acc",
                "l2",
                "none",
                at_most=-0.005,
                why=CALIBRATED,
            ),
            Claim(
                "L2 shrinks the weights (mean |w|, relative)",
                "weight_abs_mean",
                "l2",
                "none",
                relative=True,
                at_most=-0.1,
                why=CALIBRATED,
            ),
        ),
    ),
]
ABLATIONS = {ablation.name: ablation for ablation in ABLATIONS_LIST}
