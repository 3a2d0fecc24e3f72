"""An ablation as data: its variants (overrides of a baseline config) and the claims judged on them.

    from suite.spec.ablation import Ablation, Variant

The catalogue of chapter 3 is ``suite.spec.chapter3``. No torch: the report reads the same specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.spec.claims import Claim, Verdict, judge
from suite.spec.config import TrainConfig
from suite.spec.profiles import Profile


@dataclass(frozen=True)
class Variant:
    name: str  # short id, used in test ids and file names
    label: str  # what a reader of the report sees
    overrides: dict = field(default_factory=dict)  # TrainConfig fields that differ from ``base``


@dataclass(frozen=True)
class Ablation:
    name: str  # test id, selectable with -k
    title: str
    question: str  # what is varied and why, for the report
    base: dict  # TrainConfig overrides shared by all variants: the book's settings
    variants: tuple[Variant, ...]
    claims: tuple[Claim, ...]
    ci: dict = field(default_factory=dict)  # overrides that the ci profile adds to ``base``
    book_note: str = ""  # where the book's own notebook differs from what is measured here
    # (profile name, text): what a profile adds to the note, e.g. what the ci profile's 6k images
    # change; a report of another profile never shows it (``book_note_for``)
    book_notes: tuple[tuple[str, str], ...] = ()
    probe_activations: bool = False  # record the hidden-layer activations' distribution
    # The report shows the weight and bias histograms: the book's notebook for this ablation plots
    # them (Chapter03/Varying_learning_rate_on_*, Batch_normalization). An ablation with a claim on
    # the weights (L1, L2) shows them too, decided from its claims in suite.report.sections.
    shows_parameters: bool = False

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"{self.name} has no variant {name!r}")

    def overrides(self, variant: str, profile: Profile) -> dict:
        merged = dict(self.base)
        if profile.name == "ci":
            merged.update(self.ci)
        merged.update(self.variant(variant).overrides)
        return merged

    def config(self, variant: str, profile: Profile) -> TrainConfig:
        return TrainConfig(**self.overrides(variant, profile))

    def book_note_for(self, profile: str) -> str:
        """The note as a report of PROFILE shows it: the general note, then the profile's own."""
        return " ".join(text for text in (self.book_note, dict(self.book_notes).get(profile, "")) if text)

    def claims_for(self, profile: str) -> tuple[Claim, ...]:
        """The claims as judged in PROFILE (a name of PROFILES)."""
        return tuple(claim.for_profile(profile) for claim in self.claims)

    def judge(self, runs: dict[str, list[dict]], *, profile: str) -> list[Verdict] | None:
        """Every claim of PROFILE judged from RUNS (variant -> its serialized runs); None while a
        variant has none.

        Claims are pure functions of stored runs: the session judges an ablation the moment its
        last variant is stored, and the report and ``--rejudge`` derive verdicts the same way.
        """
        if any(not runs.get(variant.name) for variant in self.variants):
            return None
        return [judge(claim, runs) for claim in self.claims_for(profile)]
