"""Flake rate: how often each verdict differs from the expected one over many base seeds.

    python -m suite.flake --base-seeds 0-19 --profile ci            # train, store, judge
    python -m suite.flake --base-seeds 0-19 -k dropout,l1 --jobs 2   # a subset, 2 processes
    python -m suite.flake --rejudge docs/flake/runs                  # judge stored runs again
    python -m suite.flake --estimate DIR [DIR ...]                   # flake probabilities

``measure`` trains and judges (one JSON file per base seed and ablation, resumable), ``estimate``
turns per-seed values into a probability of a wrong verdict, ``cli`` is the command line.
"""
