"""The book's own numbers, as data: what its chapter-3 notebooks show for each variant.

    from suite.spec.book_values import BOOK_VALUES
    [v for v in BOOK_VALUES if (v.ablation, v.variant) == ("optimizer", "sgd")]   # SGD's five values

Each value was read off the outputs of one notebook of PacktPublishing/Modern-Computer-Vision-
with-PyTorch, folder Chapter03: a printed line where there is one, else the plotted curve (the
notebooks print no metrics, only plots of one unseeded run). ``precision`` is the reading
precision (±, same unit as the value); docs/book-values.md says how the curves were read. No torch.

Accuracies are fractions, like the results file's histories; epochs are 1-based, as on the
notebooks' x axes. The book's epoch counts equal the ``book`` profile's except where ``note`` says.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.spec.metrics import FRACTION, METRICS

REPO = "PacktPublishing/Modern-Computer-Vision-with-PyTorch, Chapter03"
BOOK_METRICS = ("val_acc", "train_acc", "val_loss", "train_loss", "lr")  # what the notebooks plot or print


@dataclass(frozen=True)
class BookValue:
    ablation: str
    variant: str  # the variant of this suite that reproduces the book's measurement
    metric: str  # one of BOOK_METRICS
    epoch: int  # 1-based, the book's epoch
    value: float
    precision: float  # ± how exactly the value could be read (0 for a printed value)
    notebook: str  # file name in Chapter03
    figure: str  # the figure's title and the cell that drew it
    how_read: str = "curve"  # "curve": read off the plot; "printed": the notebook printed it
    note: str = ""  # where the book's measurement differs from this suite's, shown in the report
    compared: bool = True  # False: no variant measures what the book did; shown, never compared


def _figure(ablation, variant, notebook, figure, acc, loss, values, note="", uncompared=(), why_not=""):
    """One notebook figure: VALUES maps (metric, epoch) to the reading; ACC and LOSS are the
    reading precisions of its accuracy and loss panels. NOTE goes with every value; UNCOMPARED
    names the metrics, or (metric, epoch) pairs, the book measured differently (WHY_NOT says how)."""
    out = []
    for (metric, epoch), value in values.items():
        shown_only = metric in uncompared or (metric, epoch) in uncompared
        out.append(
            BookValue(
                ablation,
                variant,
                metric,
                epoch,
                value,
                acc if METRICS[metric].unit is FRACTION else loss,
                notebook,
                figure,
                note=why_not if shown_only else note,
                compared=not shown_only,
            )
        )
    return tuple(out)


def _curves(val1, val, train, val_loss, train_loss, last):
    """The usual five readings: first-epoch and last-epoch validation accuracy, last-epoch training
    accuracy, last-epoch validation and training loss (None: the figure does not show it)."""
    readings = {
        ("val_acc", 1): val1,
        ("val_acc", last): val,
        ("train_acc", last): train,
        ("val_loss", last): val_loss,
        ("train_loss", last): train_loss,
    }
    return {key: value for key, value in readings.items() if value is not None}


LR_SCALED = "Varying_learning_rate_on_scaled_data.ipynb"
LR_RAW = "Varying_learning_rate_on_non_scaled_data.ipynb"
DEPTH = "Impact_of_building_a_deeper_neural_network.ipynb"
BN = "Batch_normalization.ipynb"
DROPOUT = "Impact_of_dropout.ipynb"
REGULARIZATION = "Impact_of_regularization.ipynb"
BN_TITLE = "“Training and validation {} with very small input values{}” (cell {})"
NO_DROPOUT_FIGURE = "“Training and validation loss / accuracy without dropout” (cell 20)"
NO_DROPOUT = _curves(0.842, 0.891, 0.957, 0.455, 0.122, 30)
REGULARIZATION_BASELINE = _curves(0.842, 0.888, 0.922, 0.351, 0.220, 10)
BASELINE_10_EPOCHS = (
    "the book's regularization notebook trains its unpenalized baseline for 10 epochs, not 30: compared at epoch 10"
)

BOOK_VALUES: tuple[BookValue, ...] = (
    # Training curves only: these notebooks have no validation split yet.
    *_figure(
        "scaling",
        "raw",
        "Steps_to_build_a_neural_network_on_FashionMNIST.ipynb",
        "“Loss / Accuracy value over increasing epochs” (cell 9)",
        0.01,
        0.5,
        {("train_acc", 5): 0.155, ("train_loss", 5): 2.2},
    ),
    *_figure(
        "scaling",
        "scaled",
        "Scaling_the_dataset.ipynb",
        "“Loss / Accuracy value over increasing epochs” (cell 4)",
        0.003,
        0.01,
        {("train_acc", 5): 0.855, ("train_loss", 5): 0.43},
    ),
    *_figure(
        "batch_size",
        "b32",
        "Varying_batch_size.ipynb",
        "“Training and validation loss / accuracy when batch size is 32” (cell 9)",
        0.003,
        0.005,
        _curves(0.814, 0.828, 0.853, 0.480, 0.397, 5),
    ),
    *_figure(
        "batch_size",
        "b10000",
        "Varying_batch_size.ipynb",
        "“Training and validation loss / accuracy when batch size is 10000” (cell 17)",
        0.01,
        0.1,
        _curves(0.520, 0.810, 0.824, 0.53, 0.49, 5),
    ),
    *_figure(
        "optimizer",
        "sgd",
        "Varying_loss_optimizer.ipynb",
        "“Training and validation loss / accuracy with SGD optimizer” (cell 10)",
        0.003,
        0.01,
        _curves(0.793, 0.853, 0.870, 0.426, 0.379, 10),
    ),
    *_figure(
        "optimizer",
        "adam",
        "Varying_loss_optimizer.ipynb",
        "“Training and validation loss / accuracy with Adam optimizer” (cell 17)",
        0.003,
        0.005,
        _curves(0.833, 0.850, 0.871, 0.454, 0.365, 10),
    ),
    *_figure(
        "lr_scaled",
        "lr1e-1",
        LR_SCALED,
        "“… with 0.1 learning rate” (cell 10)",
        0.005,
        0.03,
        _curves(0.322, 0.177, 0.173, 2.18, 2.13, 5),
    ),
    *_figure(
        "lr_scaled",
        "lr1e-3",
        LR_SCALED,
        "“… with 0.001 learning rate” (cell 17)",
        0.003,
        0.005,
        _curves(0.847, 0.877, 0.903, 0.349, 0.278, 5),
    ),
    *_figure(
        "lr_scaled",
        "lr1e-5",
        LR_SCALED,
        "“… with 0.00001 learning rate” (cell 23)",
        0.005,
        0.01,
        _curves(0.741, 0.822, 0.834, 0.525, 0.51, 5),
    ),
    # The loss axis runs to 150 (epoch 1's training loss): one pixel is 1.6, later losses a flat line.
    *_figure(
        "lr_raw",
        "lr1e-1",
        LR_RAW,
        "“… with 0.1 learning rate” (cell 10)",
        0.01,
        5.0,
        _curves(0.11, 0.10, 0.10, 3.1, 2.3, 5),
    ),
    *_figure(
        "lr_raw",
        "lr1e-3",
        LR_RAW,
        "“… with 0.001 learning rate” (cell 17)",
        0.005,
        0.02,
        _curves(0.763, 0.822, 0.838, 0.546, 0.477, 5),
    ),
    *_figure(
        "lr_raw",
        "lr1e-5",
        LR_RAW,
        "“… with 0.00001 learning rate” (cell 23)",
        0.003,
        0.03,
        _curves(0.787, 0.827, 0.863, 0.936, 0.681, 5),
    ),
    *_figure(
        "annealing",
        "constant",
        DROPOUT,
        NO_DROPOUT_FIGURE,
        0.005,
        0.01,
        NO_DROPOUT,
        note=(
            "the annealing notebook has no constant-rate run; the dropout notebook's run without dropout "
            "has the same settings (Adam 0.001, 30 epochs)"
        ),
    ),
    *_figure(
        "annealing",
        "plateau",
        "Learning_rate_annealing.ipynb",
        "“Training and validation loss / accuracy with learning rate scheduler” (cell 9)",
        0.005,
        0.01,
        _curves(0.846, 0.903, 0.956, 0.304, 0.131, 30),
    ),
    BookValue(
        "annealing",
        "plateau",
        "lr",
        30,
        1e-5,
        0.0,
        "Learning_rate_annealing.ipynb",
        "ReduceLROnPlateau's log (cell 8): cut to its floor 1.0000e-05 at epoch 17",
        how_read="printed",
    ),
    *_figure(
        "depth",
        "h0",
        DEPTH,
        "“… with no hidden layer” (cell 10)",
        0.003,
        0.005,
        _curves(0.823, 0.843, 0.864, 0.451, 0.414, 5),
    ),
    *_figure(
        "depth",
        "h1",
        DEPTH,
        "“… with 1 hidden layer” (cell 16)",
        0.003,
        0.005,
        _curves(0.847, 0.863, 0.889, 0.371, 0.276, 5),
    ),
    *_figure(
        "depth",
        "h2",
        DEPTH,
        "“… with 2 hidden layers” (cell 22)",
        0.003,
        0.005,
        _curves(0.844, 0.871, 0.895, 0.363, 0.280, 5),
    ),
    # 100 epochs in a 400-pixel-wide plot: the last points are read from a crowded, jagged curve.
    *_figure(
        "batch_norm",
        "no_bn",
        BN,
        BN_TITLE.format("loss / accuracy", "", 11),
        0.01,
        0.03,
        _curves(0.577, 0.852, 0.866, 0.42, 0.375, 100),
    ),
    *_figure(
        "batch_norm",
        "bn_book_slip",
        BN,
        BN_TITLE.format("loss / accuracy", " and batch normalization", 21),
        0.01,
        0.02,
        _curves(0.85, 0.861, 0.879, 0.393, 0.350, 100),
        note=(
            "the book's figure is titled “with batch normalization”, but its model trained in eval mode "
            "from epoch 2 on (the eval-mode slip), and its epoch-1 accuracies were measured in train "
            "mode (the validation split as one batch), as this variant does"
        ),
    ),
    *_figure("dropout", "none", DROPOUT, NO_DROPOUT_FIGURE, 0.005, 0.01, NO_DROPOUT),
    *_figure(
        "dropout",
        "p0.25",
        DROPOUT,
        "“Training and validation loss / accuracy with dropout” (cell 12)",
        0.003,
        0.01,
        _curves(0.832, 0.868, 0.900, 0.404, 0.276, 30),
        uncompared=("val_acc", "train_acc"),
        why_not=(
            "the book measured this accuracy with dropout active (its accuracy function never calls "
            "model.eval()); every accuracy here is measured in eval mode"
        ),
    ),
    *_figure(
        "l1",
        "none",
        REGULARIZATION,
        "“Training and validation loss / accuracy” (cell 11)",
        0.003,
        0.005,
        REGULARIZATION_BASELINE,
        note=BASELINE_10_EPOCHS,
    ),
    *_figure(
        "l1",
        "l1",
        REGULARIZATION,
        "“… with L1 regularization” (cell 18)",
        0.003,
        0.01,
        _curves(0.830, 0.871, 0.894, 0.362, 0.441, 30),
    ),
    *_figure(
        "l2",
        "none",
        REGULARIZATION,
        "“Training and validation loss / accuracy” (cell 11)",
        0.003,
        0.005,
        REGULARIZATION_BASELINE,
        note=BASELINE_10_EPOCHS,
    ),
    # l2/l2: the notebook's L2 cells (24-31) were saved without outputs, so the book shows no figure.
)
