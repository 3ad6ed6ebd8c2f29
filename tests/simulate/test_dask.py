"""--scheduler: the shards run on a Dask distributed cluster (here a LocalCluster on this machine)
and the report is the local run's, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
ARGS = [str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--policy",
        str(EXAMPLES / "seller-48h.toml"), "--orders", "1500", "--seed", "11", "--json"]


def test_a_dask_cluster_gives_the_local_report_bit_for_bit(cli) -> None:
    local = cli("simulate", *ARGS, "--workers", "1").stdout
    # threads, not processes: light on a shared machine
    cluster_options = {"n_workers": 2, "threads_per_worker": 1, "processes": False, "dashboard_address": None}
    with distributed.LocalCluster(**cluster_options) as cluster:
        remote = cli("simulate", *ARGS, "--scheduler", cluster.scheduler_address).stdout
    assert remote == local
    assert '"shards": 20' in local


def test_a_worker_process_gives_the_same_report(cli) -> None:
    """One real worker process: the shards and their aggregates cross a process boundary."""
    args = [*ARGS[:-4], "300", "--json"]
    local = cli("simulate", *args, "--workers", "1").stdout
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = cli("simulate", *args, "--scheduler", cluster.scheduler_address).stdout
    assert remote == local


def test_an_unreachable_scheduler_is_exit_2(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from ordercli.simulate import runner

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", "1s")
    err = cli.fail("simulate", *ARGS[:-1], "--scheduler", "tcp://127.0.0.1:9", code=2)
    assert err["code"] == "bad_scheduler" and "tcp://127.0.0.1:9" in err["message"]


def test_a_sweep_and_its_events_on_a_cluster_are_the_local_ones(cli, tmp_path: Path) -> None:
    args = [str(EXAMPLES / "marketplace.behaviour.yaml"), "--policy", "aliexpress", "--sweep",
            "seller_response_within=24h,72h", "--orders", "600", "--seed", "3", "--events-policy",
            "seller_response_within=72h", "--json"]
    local = cli("simulate", *args, "--workers", "1", "--events-out", str(tmp_path / "local.ndjson")).stdout
    cluster_options = {"n_workers": 2, "threads_per_worker": 1, "processes": False, "dashboard_address": None}
    with distributed.LocalCluster(**cluster_options) as cluster:
        remote = cli("simulate", *args, "--scheduler", cluster.scheduler_address, "--events-out",
                     str(tmp_path / "remote.ndjson")).stdout
    assert remote.replace("remote.ndjson", "local.ndjson") == local
    assert (tmp_path / "remote.ndjson").read_bytes() == (tmp_path / "local.ndjson").read_bytes()
