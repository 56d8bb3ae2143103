"""docker compose's monitoring profile (Prometheus, Grafana, Jaeger), checked from the files: no
Docker engine runs here, and the docker CLI has no compose plugin, so the whole file is
validated against the Compose Specification's JSON Schema (tests/deploy/schemas) and the YAML
read as compose would read it (docs/architecture.md, "Deploy")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose_spec.json"
PROFILE = "monitoring"
METRICS_PORT = "9100"


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def docflow_services() -> dict[str, dict[str, Any]]:
    """The DocFlow services of compose: built from deploy/Dockerfile as themselves."""
    return {name: service for name, service in compose()["services"].items()
            if service.get("build", {}).get("args", {}).get("SERVICE") == name}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path of a service's bind mounts."""
    pairs = (volume.split(":") for volume in service.get("volumes", []))
    return {parts[1]: parts[0] for parts in pairs}


def prometheus_config() -> dict[str, Any]:
    return yaml.safe_load((MONITORING / "prometheus.yml").read_text())  # type: ignore[no-any-return]


def provisioning(kind: str) -> dict[str, Any]:
    (path,) = (MONITORING / "grafana" / "provisioning" / kind).glob("*.yaml")
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


class TestSchema:
    def validator(self) -> jsonschema.Draft201909Validator:
        return jsonschema.Draft201909Validator(json.loads(COMPOSE_SCHEMA.read_text()))

    def test_the_compose_file_follows_the_compose_specification(self) -> None:
        self.validator().validate(compose())

    def test_a_misspelt_key_is_refused(self) -> None:
        document = compose()
        document["services"]["grafana"]["profile"] = document["services"]["grafana"].pop("profiles")
        with pytest.raises(jsonschema.ValidationError, match="profile"):
            self.validator().validate(document)


class TestProfile:
    def test_prometheus_grafana_and_jaeger_run_only_under_the_profile(self) -> None:
        services = compose()["services"]
        for name in ("prometheus", "grafana", "jaeger"):
            assert services[name]["profiles"] == [PROFILE], name
            image = services[name]["image"]
            assert re.search(r":v?\d+\.\d+", image), f"{name}: pin the image version ({image})"
        profiled = {name for name, service in services.items() if "profiles" in service}
        assert profiled == {"prometheus", "grafana", "jaeger"}

    def test_the_uis_are_published_on_this_machine_only(self) -> None:
        services = compose()["services"]
        published = {name: services[name]["ports"] for name in ("prometheus", "grafana", "jaeger")}
        assert published == {"prometheus": ["127.0.0.1:9090:9090"], "grafana": ["127.0.0.1:3000:3000"],
                             "jaeger": ["127.0.0.1:16686:16686"]}


class TestMetrics:
    def test_every_service_serves_metrics_on_the_compose_network(self) -> None:
        services = docflow_services()
        assert {"gateway", "auth", "documents", "signing", "mail", "audit"} <= set(services)
        for name, service in services.items():
            env = service["environment"]
            assert env[f"{name.upper()}_METRICS_PORT"] == METRICS_PORT, name
            assert env[f"{name.upper()}_METRICS_HOST"] == "0.0.0.0", name
            published = " ".join(str(port) for port in service.get("ports", []))
            assert METRICS_PORT not in published, f"{name} publishes its metrics port"

    def test_prometheus_scrapes_every_service_and_loads_the_alert_rules(self) -> None:
        config = prometheus_config()
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        targets = {target for group in jobs["docflow"]["static_configs"] for target in group["targets"]}
        assert targets == {f"{name}:{METRICS_PORT}" for name in docflow_services()}
        prometheus = compose()["services"]["prometheus"]
        files = mounts(prometheus)
        assert files["/etc/prometheus/prometheus.yml"] == "./deploy/monitoring/prometheus.yml"
        (rules,) = config["rule_files"]
        assert files[rules] == "./deploy/monitoring/alerts.yaml"
        assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]

    def test_the_instance_label_drops_the_port(self) -> None:
        (relabel,) = next(job for job in prometheus_config()["scrape_configs"]
                          if job["job_name"] == "docflow")["relabel_configs"]
        match = re.fullmatch(relabel["regex"], f"documents:{METRICS_PORT}")
        assert match is not None and match.group(1) == "documents"


class TestGrafana:
    def test_the_datasource_is_compose_s_prometheus(self) -> None:
        sources = {source["type"]: source for source in provisioning("datasources")["datasources"]}
        assert sources["prometheus"]["url"] == "http://prometheus:9090"
        assert sources["prometheus"]["isDefault"] is True
        assert sources["jaeger"]["url"] == "http://jaeger:16686"

    def test_the_dashboard_is_provisioned_from_deploy_monitoring(self) -> None:
        grafana = compose()["services"]["grafana"]
        files = mounts(grafana)
        assert files["/etc/grafana/provisioning"] == "./deploy/monitoring/grafana/provisioning"
        (provider,) = provisioning("dashboards")["providers"]
        folder = provider["options"]["path"]
        dashboards = {path: host for path, host in files.items() if path.startswith(folder + "/")}
        assert list(dashboards.values()) == ["./deploy/monitoring/grafana-dashboard.json"]
        assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] in dashboards
        dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
        (variable,) = (v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
        assert variable["query"] == "prometheus"  # picks the provisioned default datasource

    def test_grafana_is_read_only_without_a_login(self) -> None:
        env = compose()["services"]["grafana"]["environment"]
        assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
        assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


class TestTraces:
    def test_services_export_traces_only_when_the_endpoint_is_given(self) -> None:
        for name, service in docflow_services().items():
            assert service["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}", name

    def test_the_documented_endpoint_is_jaeger_s_otlp_http_receiver(self) -> None:
        jaeger = compose()["services"]["jaeger"]
        assert jaeger["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
        for text in ((ROOT / "docker-compose.yml").read_text(), (ROOT / "README.md").read_text()):
            assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile monitoring up" in text
