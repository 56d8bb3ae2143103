"""The Kubernetes manifests as kustomize builds them, base and operators overlay, checked offline:
every object against the Kubernetes schemas (kubernetes-validate) or, for custom resources, the
CRD schemas in tests/deploy/schemas; and what operating DocFlow needs of them: probes, metrics,
disruption budgets, scaling, and the state on the operators (docs/architecture.md, "Deploy")."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s"
OPERATORS = ROOT / "deploy" / "overlays" / "operators"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
KUBERNETES_VERSION = "1.30"
METRICS_PORT = 9100
# custom resources: (apiVersion, kind) -> schema file in tests/deploy/schemas
CUSTOM = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmqcluster_v1beta1.json",
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): "mongodbcommunity_v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject_v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication_v1alpha1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor_v1.json",
}

Doc = dict[str, Any]

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl (its kustomize)")


@cache
def build(directory: Path) -> tuple[Doc, ...]:
    """`kubectl kustomize` of a directory: what `kubectl apply -k` would send."""
    done = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(docs: tuple[Doc, ...], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def container(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def sources_of(docs: tuple[Doc, ...], deployment: Doc, variable: str) -> list[tuple[str, str, str]]:
    """Everything that sets ``variable`` in a Deployment's service container, the one Kubernetes
    uses first (an ``env`` entry over ``envFrom``, a later ``envFrom`` source over an earlier one):
    (kind, name, key) each, ("value", "", value) for a literal."""
    main, found = container(deployment), []
    for item in reversed(main.get("env", [])):
        if item["name"] == variable:
            if "value" in item:
                found.append(("value", "", item["value"]))
                continue
            kind = "Secret" if "secretKeyRef" in item["valueFrom"] else "ConfigMap"
            ref = item["valueFrom"]["secretKeyRef" if kind == "Secret" else "configMapKeyRef"]
            found.append((kind, ref["name"], ref["key"]))
    for source in reversed(main.get("envFrom", [])):
        kind, ref = ("Secret", source["secretRef"]) if "secretRef" in source else ("ConfigMap", source["configMapRef"])
        read = of_kind(docs, kind).get(ref["name"])
        assert read is not None, f"{deployment['metadata']['name']} reads a missing {kind} {ref['name']}"
        if variable in {**read.get("data", {}), **read.get("stringData", {})}:
            found.append((kind, ref["name"], variable))
    return found


def source_of(docs: tuple[Doc, ...], deployment: Doc, variable: str) -> tuple[str, str, str] | None:
    """Where a Deployment's service container gets ``variable`` from; None when nothing sets it."""
    return next(iter(sources_of(docs, deployment, variable)), None)


def validate(doc: Doc) -> None:
    """Raises if the object does not match its kind's schema (strict: no unknown fields)."""
    schema_file = CUSTOM.get((doc["apiVersion"], doc["kind"]))
    if schema_file is None:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    else:
        schema = json.loads((SCHEMAS / schema_file).read_text())
        jsonschema.Draft202012Validator(schema).validate(doc)


@needs_kubectl
@pytest.mark.parametrize("directory", [BASE, OPERATORS], ids=["base", "operators"])
class TestBuild:
    def test_every_object_matches_its_schema(self, directory: Path) -> None:
        docs = build(directory)
        assert docs
        for doc in docs:
            try:
                validate(doc)
            except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
                raise AssertionError(f"{doc['kind']}/{doc['metadata']['name']}: {error}") from error

    def test_every_deployment_has_probes_metrics_and_a_disruption_budget(self, directory: Path) -> None:
        docs = build(directory)
        budgets = of_kind(docs, "PodDisruptionBudget").values()
        deployments = of_kind(docs, "Deployment")
        assert {"gateway", "auth", "documents", "signing", "mail", "audit"} <= set(deployments)
        for name, deployment in deployments.items():
            main = container(deployment)
            assert main["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}, name
            assert main["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}, name
            assert main["startupProbe"]["httpGet"]["path"] == "/health", name
            assert {"containerPort": METRICS_PORT, "name": "metrics"} in main["ports"], name
            assert {"configMapRef": {"name": "docflow-metrics"}} in main["envFrom"], name
            annotations = deployment["spec"]["template"]["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true", name
            assert annotations["prometheus.io/port"] == str(METRICS_PORT), name
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            covering = [b for b in budgets
                        if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
            assert len(covering) == 1, f"{name} needs one PodDisruptionBudget (deploy/k8s/disruption.yaml)"
            assert covering[0]["spec"]["maxUnavailable"] == 1
            assert deployment["spec"]["replicas"] >= 2, name

    def test_every_service_reads_its_metrics_settings(self, directory: Path) -> None:
        docs = build(directory)
        settings = of_kind(docs, "ConfigMap")["docflow-metrics"]["data"]
        for name in of_kind(docs, "Deployment"):
            assert settings[f"{name.upper()}_METRICS_PORT"] == str(METRICS_PORT), name
            assert settings[f"{name.upper()}_METRICS_HOST"] == "0.0.0.0", name
        for name, service in of_kind(docs, "Service").items():
            ports = {port["name"]: port for port in service["spec"]["ports"]}
            assert ports["metrics"]["targetPort"] == "metrics", name
            assert service["metadata"]["labels"]["part-of"] == "docflow", name

    def test_signing_reads_the_evidence_seal_from_its_secret(self, directory: Path) -> None:
        """Without the seal's settings production answers evidence PDFs with 503 evidence-seal-missing:
        they name files of the mounted Secret (a TLS Secret's keys), readable by the service's user."""
        docs = build(directory)
        signing = of_kind(docs, "Deployment")["signing"]
        pod = signing["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in container(signing)["volumeMounts"]}
        settings = of_kind(docs, "ConfigMap")["docflow-config"]["data"]
        for setting, key in (("SIGNING_EVIDENCE_SEAL_CERT", "tls.crt"), ("SIGNING_EVIDENCE_SEAL_KEY", "tls.key")):
            path = PurePosixPath(settings[setting])
            assert path.name == key, setting
            mount = mounts[str(path.parent)]
            assert mount["readOnly"] is True
            secret = volumes[mount["name"]]["secret"]
            assert secret["secretName"] == "docflow-evidence-seal" and not secret.get("optional")
            assert secret["defaultMode"] & 0o044 == 0o040  # the group (fsGroup), not everyone
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]
        assert "docflow-evidence-seal" in (BASE / "config.yaml").read_text()  # how to create it

    def test_consumers_scale_on_their_queue_and_http_services_on_cpu(self, directory: Path) -> None:
        docs = build(directory)
        scaled = {doc["spec"]["scaleTargetRef"]["name"]: doc for doc in of_kind(docs, "ScaledObject").values()}
        autoscalers = of_kind(docs, "HorizontalPodAutoscaler").values()
        autoscaled = {doc["spec"]["scaleTargetRef"]["name"] for doc in autoscalers}
        assert {"mail", "notify"} <= set(scaled)
        assert {"gateway", "auth", "documents", "signing", "audit"} <= autoscaled
        assert not set(scaled) & autoscaled, "KEDA makes the HPA of a scaled Deployment: one owner only"
        authentications = of_kind(docs, "TriggerAuthentication")
        for name, scaled_object in scaled.items():
            (trigger,) = scaled_object["spec"]["triggers"]
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["queueName"] == f"{name}.events"  # docflow_shared.broker.queue_name
            assert trigger["metadata"]["mode"] == "QueueLength"
            (secret_ref,) = authentications[trigger["authenticationRef"]["name"]]["spec"]["secretTargetRef"]
            assert secret_ref == {"parameter": "host", "name": "docflow-secrets", "key": "AMQP_URL"}
            assert scaled_object["spec"]["minReplicaCount"] >= 2
            # KEDA reads the queue with the broker URL the Deployment it scales uses
            deployment = of_kind(docs, "Deployment")[name]
            assert source_of(docs, deployment, "AMQP_URL") == ("Secret", secret_ref["name"], secret_ref["key"]), name

    def test_every_service_reads_the_one_shared_broker_and_database_url(self, directory: Path) -> None:
        """MONGODB_URL and AMQP_URL come from one Secret key each, the same for every Deployment,
        never a literal, and nothing else in the Deployment sets them (a shadowed value misleads)."""
        docs = build(directory)
        deployments = of_kind(docs, "Deployment")
        assert {"gateway", "auth", "documents", "signing", "mail", "routes", "audit", "notify"} <= set(deployments)
        for variable in ("MONGODB_URL", "AMQP_URL"):
            for name, deployment in deployments.items():
                assert len(sources_of(docs, deployment, variable)) == 1, (name, sources_of(docs, deployment, variable))
            sources = {name: source_of(docs, deployment, variable) for name, deployment in deployments.items()}
            assert len(set(sources.values())) == 1, f"{variable} differs between services: {sources}"
            (source,) = set(sources.values())
            assert source is not None and source[0] == "Secret", f"{variable}: {sources}"
        if directory == BASE:
            for name, deployment in deployments.items():
                assert source_of(docs, deployment, "AMQP_URL") == ("Secret", "docflow-secrets", "AMQP_URL"), name
                assert source_of(docs, deployment, "MONGODB_URL") == ("Secret", "docflow-secrets", "MONGODB_URL"), name


@needs_kubectl
class TestOperatorsOverlay:
    def test_rabbitmq_is_a_three_node_cluster_and_its_users_are_imported(self) -> None:
        docs = build(OPERATORS)
        (cluster,) = of_kind(docs, "RabbitmqCluster").values()
        assert cluster["spec"]["replicas"] == 3
        name = cluster["metadata"]["name"]
        secret = of_kind(docs, "Secret")["docflow-secrets"]["stringData"]
        assert f"@{name}.docflow.svc:5672/" in secret["AMQP_URL"]
        job = of_kind(docs, "Job")["docflow-rabbitmq-users"]
        main = job["spec"]["template"]["spec"]["containers"][0]
        assert "docflow_shared.broker_users definitions" in " ".join(main["command"])
        assert f"http://{name}:15672/api/definitions" in " ".join(main["command"])
        refs = {env["name"]: env["valueFrom"]["secretKeyRef"] for env in main["env"] if "valueFrom" in env}
        assert refs["ADMIN_USER"] == {"name": f"{name}-default-user", "key": "username"}
        assert refs["ADMIN_PASSWORD"] == {"name": f"{name}-default-user", "key": "password"}
        users = of_kind(docs, "Secret")["docflow-rabbitmq-users"]["stringData"]
        for service in ("auth", "documents", "signing", "mail", "audit", "gateway"):
            assert f"RABBITMQ_{service.upper()}_PASSWORD" in users

    def test_quorum_queues_are_what_the_services_declare(self) -> None:
        """The overlay relies on the services declaring quorum queues; this fails if they stop."""
        source = (ROOT / "shared" / "docflow_shared" / "broker.py").read_text()
        assert source.count('"x-queue-type": "quorum"') >= 2

    def test_mongodb_is_a_three_member_replica_set_wired_to_every_service(self) -> None:
        docs = build(OPERATORS)
        (mongo,) = of_kind(docs, "MongoDBCommunity").values()
        assert mongo["spec"]["members"] == 3 and mongo["spec"]["type"] == "ReplicaSet"
        assert mongo["spec"]["version"].startswith("7.")
        (user,) = mongo["spec"]["users"]
        databases = {role["db"] for role in user["roles"] if role["name"] == "readWrite"}
        for name, deployment in of_kind(docs, "Deployment").items():
            assert name in databases, f"the MongoDB user needs readWrite on {name}"
            env = {item["name"]: item for item in container(deployment).get("env", [])}
            assert env["MONGODB_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": user["connectionStringSecretName"], "key": "connectionString.standard"}, name
        assert "MONGODB_URL" not in of_kind(docs, "Secret")["docflow-secrets"]["stringData"]

    def test_the_overlay_keeps_everything_else_of_the_base(self) -> None:
        base, overlay = of_kind(build(BASE), "Deployment"), of_kind(build(OPERATORS), "Deployment")
        assert set(base) == set(overlay)
        for name, deployment in base.items():
            before, after = container(deployment), container(overlay[name])
            # the overlay's env list replaces the base's: the base must have none to lose
            assert "env" not in before, f"{name}: patches/mongodb-url.yaml would drop its env"
            assert {k: v for k, v in after.items() if k != "env"} == before, name

    def test_the_base_keeps_external_urls(self) -> None:
        docs = build(BASE)
        assert not of_kind(docs, "RabbitmqCluster") and not of_kind(docs, "MongoDBCommunity")
        secret = of_kind(docs, "Secret")["docflow-secrets"]["stringData"]
        assert secret["MONGODB_URL"].startswith("mongodb://") and secret["AMQP_URL"].startswith("amqp://")
        for deployment in of_kind(docs, "Deployment").values():
            assert "env" not in container(deployment)

    def test_the_prometheus_operator_scrapes_every_docflow_service(self) -> None:
        docs = build(OPERATORS)
        (monitor,) = of_kind(docs, "ServiceMonitor").values()
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["metrics"]
        for name, service in of_kind(docs, "Service").items():
            assert selector.items() <= service["metadata"]["labels"].items(), name


class TestSchemas:
    """The checks above can fail: the validator refuses what the schemas refuse."""

    def test_a_custom_resource_with_an_unknown_field_is_refused(self) -> None:
        cluster = {"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
                   "metadata": {"name": "x"}, "spec": {"replicas": 3, "replica": 3}}
        with pytest.raises(jsonschema.ValidationError, match="replica"):
            validate(cluster)

    def test_a_replica_set_without_users_is_refused(self) -> None:
        mongo = {"apiVersion": "mongodbcommunity.mongodb.com/v1", "kind": "MongoDBCommunity",
                 "metadata": {"name": "x"}, "spec": {"members": 3, "type": "ReplicaSet",
                                                     "security": {"authentication": {"modes": ["SCRAM"]}}}}
        with pytest.raises(jsonschema.ValidationError, match="users"):
            validate(mongo)

    def test_a_scaled_object_without_triggers_is_refused(self) -> None:
        scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"},
                  "spec": {"scaleTargetRef": {"name": "mail"}}}
        with pytest.raises(jsonschema.ValidationError, match="triggers"):
            validate(scaled)

    def test_a_core_object_with_a_misspelt_field_is_refused(self) -> None:
        budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"},
                  "spec": {"maxUnavailabe": 1, "selector": {"matchLabels": {"app": "mail"}}}}
        with pytest.raises(kubernetes_validate.ValidationError):
            validate(budget)

    def test_every_schema_file_is_used_and_valid(self) -> None:
        files = {path.name for path in SCHEMAS.glob("*.json")} - {"compose_spec.json"}
        assert files == set(CUSTOM.values())
        for name in files:
            jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))
