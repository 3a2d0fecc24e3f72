"""The profiles a run can use (how much of the data, how many seeds) and the seeds it trains on.

    from suite.spec.profiles import PROFILES, seeds_for
    PROFILES["ci"].train_size                # 6000 training images
    seeds_for(7, 3)                          # [7000, 7001, 7002]

No torch. What a profile changes in each ablation (fewer epochs) is in ``suite.spec.chapter3``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    train_size: int | None  # images of the 60k training split (a fixed random subset); None: all
    val_size: int | None  # images of the 10k test split used for validation; None: all
    seeds: int  # seeds per variant unless --ablation-seeds says otherwise
    description: str


PROFILES = {
    "book": Profile("book", None, None, 3, "the book's protocol: full 60k/10k data, the book's epochs"),
    "ci": Profile("ci", 6000, 2000, 3, "6k training images, 2k validation images and fewer epochs, for a 2-core CPU"),
}


def seeds_for(base_seed: int, count: int) -> list[int]:
    """The seeds a run with base seed B uses: B*1000, B*1000+1, ... (disjoint for B < 1000/count)."""
    return [base_seed * 1000 + i for i in range(count)]
