"""`make run REPLICAS=...`: how the replica counts are read and which ports the replicas get."""

from __future__ import annotations

import pytest

from docflow_dev.devstack import StartupError, parse_replicas
from docflow_dev.supervisor import _metrics_ports, _service_ports

SERVICES = ["auth", "documents", "signing", "mail", "audit"]


def test_counts_per_service_are_read_and_the_rest_run_one() -> None:
    assert parse_replicas("documents=2, mail=3", SERVICES) == {"documents": 2, "mail": 3}
    assert parse_replicas("", SERVICES) == {}


@pytest.mark.parametrize("value", ["gateway=2", "documents", "documents=0", "documents=two", "nope=2"])
def test_a_wrong_name_or_count_is_one_line_naming_it(value: str) -> None:
    with pytest.raises(StartupError, match="REPLICAS"):
        parse_replicas(value, SERVICES)


def test_replicas_take_ports_of_their_own_and_never_share_a_metrics_port() -> None:
    env = {"DOCUMENTS_PORT": "18002", "MAIL_PORT": "18004"}
    ports = _service_ports(env, ["documents", "mail"], {"documents": 2, "mail": 3})
    assert ports == {"documents": 18002, "documents-2": 19002, "mail": 18004, "mail-2": 19004, "mail-3": 20004}
    metrics = _metrics_ports({}, ports)
    assert metrics["documents-2"] == 19102 and metrics["mail-3"] == 20104
    assert len(set(metrics.values()) | set(ports.values())) == 2 * len(ports)
