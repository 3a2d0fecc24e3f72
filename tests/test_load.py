"""The one rule for "the machine was loaded": waiting for a CPU, or other jobs on the other CPUs."""

from suite.store.load import LoadSample, loaded_between, others_share


def sample(run_s=0.0, wait_s=0.0, busy_s=0.0, at_s=0.0, loadavg=(0.5,)) -> dict:
    return LoadSample(list(loadavg), run_s, wait_s, busy_s, at_s).to_json()


def test_a_quiet_machine_is_not_loaded():
    # 100 s on 2 CPUs: this run's thread busy 98 s, everything else 3 s
    assert others_share(sample(), sample(run_s=98, busy_s=101, at_s=100), cores=2) == 0.015
    assert loaded_between(sample(), sample(run_s=98, busy_s=101, at_s=100), cores=2, threads=1) is None


def test_another_job_on_the_other_cpu_is_a_loaded_machine_though_nothing_waited():
    end = sample(run_s=98, wait_s=0.5, busy_s=196, at_s=100)
    assert loaded_between(sample(), end, cores=2, threads=1) == "other jobs kept 49% of the 2 CPUs busy"


def test_waiting_for_a_cpu_is_named_first():
    end = sample(run_s=50, wait_s=50, busy_s=200, at_s=100)
    assert loaded_between(sample(), end, cores=2, threads=1) == "its threads waited 50% of their time for a CPU"


def test_samples_without_the_cpu_counters_keep_the_wait_rule():
    start, end = {"run_s": 0.0, "wait_s": 0.0}, {"run_s": 98.0, "wait_s": 1.0}
    assert others_share(start, end, cores=2) is None
    assert loaded_between(start, end, cores=2, threads=1) is None


def test_a_sample_taken_here_has_every_counter_on_linux():
    taken = LoadSample.now()
    assert taken.busy_s is not None and taken.at_s is not None and taken.run_s is not None
    assert LoadSample.from_json(taken.to_json(), "sample") == taken
