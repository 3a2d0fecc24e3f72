"""pytest plugin of the ablation suite: options, the run's session, fixtures, the verdict summary.

    pytest suite/cases                                   # ci profile, CPU, 3 seeds
    pytest suite/cases -k batch_norm --ablation-device cuda --ablation-profile book
    pytest suite/cases --ablation-seeds 5 --ablation-base-seed 7 --ablation-report

Registered by the repository's conftest.py and, once installed, by the ``pytest11`` entry point.
Each run writes reports/<run-id>/results.json (and pytest-benchmark's benchmark.json) there.
"""

from __future__ import annotations

import signal
import warnings

import pytest

from suite.harness.ending import DeferredFile
from suite.harness.options import add_options, check_device
from suite.harness.resume import deselect
from suite.harness.run import RunSession
from suite.harness.stopping import install as install_signal_stops
from suite.harness.stopping import uninstall as uninstall_signal_stops
from suite.harness.summary import write_summary
from suite.spec.chapter3 import ABLATIONS
from suite.store.files import ResultsError, first_line, signals_held, write_failure
from suite.store.records import Outcome
from suite.store.stops import StopCause

SESSION = pytest.StashKey[RunSession]()


class NotReproduced(UserWarning):
    """A book claim that this run's measurements do not support (reported, not failed)."""


class Inconclusive(NotReproduced):
    """A reported book claim whose seeds support neither side of its bound (a NotReproduced, so
    that one filter silences both)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark reads --benchmark-json
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ablation(name): a case of the named ablation")
    config.addinivalue_line("markers", "xdist_group(name): run in one pytest-xdist worker")
    run = config.stash[SESSION] = RunSession.from_config(config)  # a refused resume stops here, in one line
    check_device(run.device)
    if hasattr(config.option, "benchmark_json") and config.option.benchmark_json is None:
        config.option.benchmark_json = DeferredFile(lambda: run.run_dir / "benchmark.json")
        if run.resuming:  # the stopped part's timings stay; this part's are merged in (DeferredFile.commit)
            config.option.benchmark_json.keep_earlier()
    config.pluginmanager.register(_InternalErrorRecorder(run), "ablation-internalerror")
    if hasattr(signal, "SIGTERM") and _is_main_thread():
        # A CI runner's cancel sends SIGTERM: end like Ctrl-C, so the results say "interrupted", by which signal.
        install_signal_stops(run)


def pytest_cmdline_main(config: pytest.Config) -> None:
    # Under pytest-xdist, every case of an ablation must run in one worker: its claims are judged
    # from the variants that worker trained. Plain "-n N" means --dist load; make it loadgroup.
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # pytest-xdist's hook, before its own
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """loadgroup that keeps an ablation together whatever pytest reads as a node id (xdist_groups)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from suite.harness.xdist_groups import make_scheduler

    return make_scheduler(config, log)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown to pytest when xdist is absent
def pytest_configure_node(node) -> None:
    """pytest-xdist hook (controller side): every worker writes into the controller's run folder,
    which the controller takes for this run before the first worker starts."""
    run = node.config.stash[SESSION]
    try:
        run.claim_folder()
    except ResultsError as exc:
        raise pytest.UsageError(str(exc)) from None
    node.workerinput["ablation_run_dir"] = str(run.run_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(SESSION, None)
    if run is not None:
        run.release_folder()
        if _is_main_thread():
            uninstall_signal_stops()


class _InternalErrorRecorder:
    """Keeps pytest's internal error as the run's one-line reason (the hook gets no config)."""

    def __init__(self, run: RunSession):
        self.run = run

    def pytest_internalerror(self, excrepr, excinfo) -> None:
        self.run.internal_error = f"pytest internal error: {excinfo.typename}: {excinfo.value}".splitlines()[0]


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _ablation_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("ablation")
    return marker.args[0] if marker else None


@pytest.hookimpl(trylast=True)  # after -k/-m deselection and any shuffling plugin
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Ablation by ablation: an ablation's variants, then its claims, then the next ablation.

    The cases are written variants-first for every ablation; run in that order, a run stopped at
    90% would have trained almost everything and judged almost nothing. Unmarked cases keep their
    place. pytest-xdist's loadgroup keeps each ablation in one worker, in this order.
    """
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        name = _ablation_of(item)
        if name is not None:
            first.setdefault(name, index)

    def position(pair: tuple[int, pytest.Item]) -> tuple[int, int]:
        index, item = pair
        name = _ablation_of(item)
        return (index, 0) if name is None else (first[name], index)

    items[:] = [item for _, item in sorted(enumerate(items), key=position)]
    run = config.stash.get(SESSION, None)
    if run is not None and run.resuming:  # the tests the stopped run selected, no others
        deselect(config, run.results, items, _ablation_of)


def _is_suite_case(item: pytest.Item) -> bool:
    return _ablation_of(item) is not None or "ablation_session" in getattr(item, "fixturenames", ())


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    marked = list(dict.fromkeys(n for n in map(_ablation_of, session.items) if n))
    if not any(map(_is_suite_case, session.items)) or config.option.collectonly:
        return
    run = config.stash[SESSION]
    try:
        run.claim_folder()
    except ResultsError as exc:
        pytest.exit(f"ablation suite cannot start: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    if run.results.selected is None:  # what a resume runs again (a resume keeps the first part's)
        run.results.selected = [item.name for item in session.items if _is_suite_case(item)]
    run.expect([name for name in marked if name in ABLATIONS])
    if not marked:  # e.g. -k sigmoid: nothing trains, nothing is timed
        return
    if isinstance(getattr(config.option, "benchmark_json", None), DeferredFile):
        config.option.benchmark_json.active = True
    try:
        run.prepare()
    except Exception as exc:  # DataError, a CUDA failure: one line, no traceback, results kept
        run.finish("error", f"cannot start: {exc}")  # its first line
        pytest.exit(f"ablation suite cannot start: {first_line(str(exc))}", returncode=3)


@pytest.fixture(scope="session")
def ablation_session(request: pytest.FixtureRequest) -> RunSession:
    """The run's session object: results so far, the profile, the seeds."""
    return request.config.stash[SESSION]


@pytest.fixture
def train_variant(ablation_session: RunSession, benchmark):
    """Callback ``train_variant(ablation, variant)``: trains all seeds once, timed by pytest-benchmark."""

    def run(name: str, variant: str) -> dict:
        if (name, variant) in ablation_session.earlier:  # no benchmark entry: its own is in benchmark.json
            pytest.skip(f"{name}/{variant} was trained and timed before the run was resumed")
        benchmark.group = name

        def timed(work):
            try:
                return benchmark.pedantic(work, rounds=1, iterations=1)
            except BaseException:
                # pytest-benchmark flags only an Exception; a Ctrl-C or SIGTERM mid-training would
                # leave it a benchmark without a round, which its session end cannot summarize.
                benchmark.has_error = True
                raise

        try:
            record = ablation_session.variant(name, variant, timer=timed).to_json()
        except Exception as exc:
            ablation_session.mark_error(name, f"{variant}: {type(exc).__name__}: {exc}")
            raise
        benchmark.extra_info.update(
            variant=variant,
            seeds=[r["seed"] for r in record["runs"]],
            final_val_acc=[r["history"]["val_acc"][-1] for r in record["runs"]],
            final_train_acc=[r["history"]["train_acc"][-1] for r in record["runs"]],
            diverged_epochs=[r["diverged_epoch"] for r in record["runs"]],
        )
        return record

    return run


@pytest.fixture
def judge_ablation(ablation_session: RunSession):
    """Callback ``judge_ablation(name)``: trains what is missing, judges every claim, warns for
    reported claims that were not reproduced, and returns the verdicts."""

    def run(name: str):
        try:
            verdicts = ablation_session.judge(name)
        except Exception as exc:
            ablation_session.mark_error(name, f"{type(exc).__name__}: {exc}")
            raise
        for verdict in verdicts:
            if not verdict.asserted and not verdict.holds:
                kind = Inconclusive if verdict.outcome == Outcome.INCONCLUSIVE else NotReproduced
                warnings.warn(kind(f"{name}: {verdict.message()}"), stacklevel=2)
        return verdicts

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    run = config.stash.get(SESSION, None)
    if run is not None and run.results.ablations:
        write_summary(terminalreporter, run, config)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """A results file that could not be written (a full disk) stops the run after this case."""
    run = item.config.stash.get(SESSION, None)
    if run is not None and run.write_error and not item.session.shouldfail:
        item.session.shouldfail = f"ablation suite stopped: {run.write_error}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    """The run's status is settled before any other plugin's session end (pytest-benchmark's
    among them) can fail; the comparison and the report come after, once benchmark.json exists."""
    run = session.config.stash.get(SESSION, None)
    interrupted = False
    try:
        with signals_held():  # the run's final status is written whole, whatever arrives meanwhile
            ending = run is not None and run.settle(exitstatus)
    except KeyboardInterrupt:  # arrived during the settling: raised again once the file was written
        ending = interrupted = True
        _interrupted_at_end(session, run)
    bench = getattr(session.config.option, "benchmark_json", None)
    written = False
    try:
        result = yield
        written = True
        return result
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while the session ends (pytest-benchmark saving its file)
        if not ending:
            raise
        interrupted = True
        _interrupted_at_end(session, run)
        return None
    except OSError as exc:  # pytest-benchmark writing benchmark.json to a full disk: one line
        if not ending:
            raise
        why = write_failure(bench.name if isinstance(bench, DeferredFile) else exc.filename, exc)
        if run.results.status != "error":
            run.finish("error", why, StopCause.WRITE_ERROR)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        _say(session.config, f"ablation suite: {why}; results: {run.path} (run {run.results.status})")
        return None
    finally:
        if isinstance(bench, DeferredFile):
            bench.commit(written)
        if ending and not interrupted:  # stopped by hand: no comparison, no report (python -m suite.report renders it)
            run.end(session)


def _interrupted_at_end(session: pytest.Session, run: RunSession) -> None:
    session.exitstatus = pytest.ExitCode.INTERRUPTED
    _say(session.config, f"interrupted as the run ended; results: {run.path} (run {run.results.status})")


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, red=True)
