"""What can be checked of the deployment files without a Docker engine or a cluster."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "auth", "documents", "signing", "mail")


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


class TestCompose:
    def test_every_service_is_built_from_deploy_with_its_name(self) -> None:
        services = compose()["services"]
        for name in SERVICES:
            build = services[name]["build"]
            assert build["dockerfile"] == "deploy/Dockerfile"
            assert build["args"]["SERVICE"] == name
            assert (ROOT / "services" / name / f"docflow_{name}").is_dir()
        assert (ROOT / "deploy" / "Dockerfile").is_file()

    def test_mongodb_is_a_single_node_replica_set_with_its_init(self) -> None:
        mongo = compose()["services"]["mongo"]
        assert mongo["image"].startswith("mongo:7")
        assert "--replSet" in mongo["command"]
        assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
        for name in SERVICES:
            env = compose()["services"][name]["environment"]
            assert "replicaSet=rs0" in env["MONGODB_URL"]

    def test_infrastructure_and_gateway_port(self) -> None:
        services = compose()["services"]
        assert "management" in services["rabbitmq"]["image"]
        assert "mailpit" in services["mailpit"]["image"]
        assert "8000:8000" in services["gateway"]["ports"]
        assert services["gateway"]["environment"]["AUTH_URL"] == "http://auth:8000"

    def test_no_secret_has_a_literal_value(self) -> None:
        text = (ROOT / "docker-compose.yml").read_text()
        for key in ("PASSWORD", "MASTER_KEYS", "CODE_SECRET", "SIGNING_KEYS"):
            for line in text.splitlines():
                if re.match(rf"\s+\w*{key}\w*:", line):
                    assert "${" in line, line

    def test_env_example_names_every_required_variable(self) -> None:
        example = (ROOT / ".env.example").read_text()
        required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
        for name in required:
            assert re.search(rf"^{name}=", example, re.MULTILINE), name


class TestKubernetes:
    def test_a_deployment_and_service_per_service_with_probes(self) -> None:
        for name in SERVICES:
            docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / f"{name}.yaml").read_text()))
            kinds = {d["kind"] for d in docs}
            assert {"Deployment", "Service"} <= kinds
            deployment = next(d for d in docs if d["kind"] == "Deployment")
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"

    def test_kustomization_lists_every_manifest(self) -> None:
        kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
        for resource in kustomization["resources"]:
            assert (ROOT / "deploy" / "k8s" / resource).is_file()
