"""What a run's numbers depend on besides the code: its environment fingerprint, and its speed machine.

    from suite.regress.environment import fingerprint, differences
    fingerprint(results)          # {"device": "cpu", "torch": "2.14.1", "torch_threads": 2, ...}
    differences(old, new)         # ["torch 2.14.1 → 2.15.0"]: empty when the numbers must repeat

The suite's runs are deterministic on one device, torch build and thread count: two runs with the
same fingerprint repeat every stored value bitwise, so the nightly compares them exactly
(``suite.regress.exact``); a different fingerprint is compared statistically
(``suite.regress.shift``). The machine (CPU model and count, GPU) also decides whether training
times are comparable at all (``suite.regress.cost``); whether it was loaded is ``suite.store.load``'s rule. No torch.
"""

from __future__ import annotations

from typing import Any

# From results.json's ``machine`` (suite.store.machine.machine_info): everything that can change
# a floating-point result: the kernels (torch, CUDA, cuDNN builds, the CPU's instruction set and
# the GPU model), the reduction order (torch's thread count), and Python (its float formatting).
FROM_MACHINE = ("python", "torch", "cuda", "cudnn", "torch_threads", "cpu", "gpu")
# Where the machine decides the speed: a time is compared only between runs with these equal.
SPEED = ("cpu", "cpu_count", "gpu", "torch_threads")


def fingerprint(data: dict) -> dict[str, Any]:
    """The environment of a results file's run (DATA: its checked JSON). Seeds and the profile's
    sizes are in it because they choose the data; on CUDA the selected ablations too, because
    they decide which runs train together in one stack, and the stack's size can change the
    kernels a batched matmul uses."""
    machine = data.get("machine") or {}
    device = str(data.get("device") or machine.get("device") or "?")
    profile = data.get("profile") or {}
    found: dict[str, Any] = {"device": device.split(":")[0]}
    found.update({key: machine.get(key) for key in FROM_MACHINE if machine.get(key) is not None})
    found["seeds"] = list(data.get("seeds") or [])
    found["data"] = [profile.get("name"), profile.get("train_size"), profile.get("val_size")]
    if found["device"] == "cuda":
        found["selection"] = sorted(data.get("ablations") or {})
    return found


def differences(old: dict, new: dict) -> list[str]:
    """What differs between two fingerprints, one 'key old → new' each; [] for the same environment.
    A run recorded without torch's details (an old file) never counts as the same."""
    if "torch" not in old or "torch" not in new:
        return ["torch: not recorded"]
    keys = dict.fromkeys([*old, *new])
    return [f"{key} {old.get(key)} → {new.get(key)}" for key in keys if old.get(key) != new.get(key)]


def speed_machine(data: dict) -> tuple:
    """What decides how fast the same code trains: device type, CPU, cores, GPU, torch's threads."""
    machine = data.get("machine") or {}
    device = str(data.get("device") or "?").split(":")[0]
    return (device, *(machine.get(key) for key in SPEED))
