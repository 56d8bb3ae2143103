"""What can be checked of the deployment files without a Docker engine or a cluster."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import uuid
from io import BytesIO
from pathlib import Path
from urllib.parse import urlparse

import aio_pika
import pytest
import yaml
from aiormq.exceptions import ChannelAccessRefused
from pydantic import ValidationError
from pyhanko.pdf_utils.reader import PdfFileReader

from docflow_dev.testing.pdfs import plain_pdf
from docflow_shared import broker_users
from docflow_shared.broker import exchange_name
from docflow_shared.sealed import new_key_spec
from docflow_shared.settings import ServiceSettings, is_placeholder
from docflow_signing.evidence.seal import FIELD, Seal

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "auth", "documents", "signing", "mail", "routes", "audit", "notify")


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


# --- insecure defaults and the broker users ------------------------------------------------------

SECRETS = ("AUTH_SECRET_KEY", "EVENT_SECRET_KEYS", "DOCUMENTS_MASTER_KEYS", "RABBITMQ_PASSWORD",
           *(f"RABBITMQ_{name.upper()}_PASSWORD" for name in SERVICES))


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def settings_classes() -> list[type[ServiceSettings]]:
    from docflow_auth.settings import AuthSettings
    from docflow_documents.settings import DocumentsSettings
    from docflow_mail.settings import MailSettings

    return [AuthSettings, DocumentsSettings, MailSettings]


class TestInsecureDefaults:
    def test_management_uis_are_published_on_this_machine_only(self) -> None:
        services = compose()["services"]
        for name in ("rabbitmq", "mailpit"):
            for port in services[name]["ports"]:
                assert str(port).startswith("127.0.0.1:"), (name, port)

    def test_env_example_carries_no_value_that_passes_as_a_secret(self) -> None:
        values = env_example()
        for name in SECRETS:
            assert is_placeholder(values[name]), f"{name}={values[name]}"
        assert "DOCFLOW_ENV" not in values  # a copied .env must not take compose out of production mode

    @pytest.mark.parametrize("settings_class", settings_classes(), ids=lambda c: c.service_name)
    def test_the_example_values_cannot_start_in_production(
        self, settings_class: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name, value in {**env_example(), "DOCFLOW_ENV": "production"}.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError, match="refuses to start in production mode") as refused:
            settings_class(_env_file=None)  # type: ignore[call-arg]
        message = str(refused.value)
        assert "guest" in message and "BROKER_USER_PREFIX" in message
        for name in settings_class.required_secrets:
            assert settings_class.env_name(name) in message

    @pytest.mark.parametrize("settings_class", settings_classes(), ids=lambda c: c.service_name)
    def test_real_secrets_start_in_production(
        self, settings_class: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name, value in {**env_example(), "DOCFLOW_ENV": "production", "BROKER_USER_PREFIX": "docflow-",
                            "AMQP_URL": f"amqp://docflow-x:{secrets.token_urlsafe(24)}@rabbitmq:5672/",
                            "AUTH_SECRET_KEY": secrets.token_urlsafe(48), "EVENT_SECRET_KEYS": new_key_spec(),
                            "DOCUMENTS_MASTER_KEYS": new_key_spec(), "DOCUMENTS_MASTER_KEY_ID": "k1"}.items():
            monkeypatch.setenv(name, value)
        assert settings_class(_env_file=None).environment == "production"  # type: ignore[call-arg]

    def test_development_mode_keeps_working_with_the_example(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in env_example().items():
            monkeypatch.setenv(name, value)
        for settings_class in settings_classes():
            assert settings_class(_env_file=None).environment == "development"  # type: ignore[call-arg]


class TestBrokerUsers:
    def test_compose_runs_production_and_each_service_as_its_own_broker_user(self) -> None:
        services = compose()["services"]
        for name in SERVICES:
            env = services[name]["environment"]
            assert env["DOCFLOW_ENV"] == "${DOCFLOW_ENV:-production}"
            assert env["BROKER_USER_PREFIX"] == "docflow-"
            assert env["AMQP_URL"].startswith(f"amqp://docflow-{name}:${{RABBITMQ_{name.upper()}_PASSWORD:?")

    def test_the_broker_boots_with_the_users_rabbitmq_users_writes(self) -> None:
        services = compose()["services"]
        writer, broker = services["rabbitmq-users"], services["rabbitmq"]
        assert writer["command"][:3] == ["python", "-m", "docflow_shared.broker_users"]
        out = Path(writer["command"][writer["command"].index("--out") + 1])
        assert broker["depends_on"]["rabbitmq-users"]["condition"] == "service_completed_successfully"
        mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in broker["volumes"]}
        assert mounts["./deploy/rabbitmq/20-docflow.conf"].startswith("/etc/rabbitmq/conf.d/")
        conf = ROOT / "deploy" / "rabbitmq" / "20-docflow.conf"
        path = re.search(r"^definitions\.local\.path = (\S+)$", conf.read_text(), re.MULTILINE)
        assert path is not None
        writer_volume = next(v for v in writer["volumes"] if v.endswith(":" + str(out.parent)))
        assert path.group(1) == f"{mounts[writer_volume.split(':')[0]]}/{out.name}"
        assert "RABBITMQ_DEFAULT_PASS" not in broker.get("environment", {})

    async def test_the_written_definitions_are_what_rabbitmq_enforces(
        self, amqp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if broker_users.rabbitmqctl() is None or urlparse(amqp_url).hostname != "127.0.0.1":
            pytest.skip("needs the local broker's rabbitmqctl")
        prefix, namespace = f"deploy{uuid.uuid4().hex[:6]}-", f"deploy{uuid.uuid4().hex[:6]}."
        passwords = broker_users.new_passwords()
        monkeypatch.setenv("BROKER_USER_PREFIX", prefix)
        monkeypatch.setenv("BROKER_NAMESPACE", namespace)
        monkeypatch.setenv("RABBITMQ_USER", f"{prefix}admin")
        monkeypatch.setenv("RABBITMQ_PASSWORD", secrets.token_urlsafe(16))
        for service, password in passwords.items():
            monkeypatch.setenv(f"RABBITMQ_{service.upper()}_PASSWORD", password)
        out = tmp_path / "definitions.json"
        assert broker_users.main(["definitions", "--out", str(out)]) == 0
        document = json.loads(out.read_text())
        document.pop("vhosts")  # the shared test broker's vhost exists already
        broker_users.import_locally(document)
        try:
            url = broker_users.service_url(amqp_url, f"{prefix}auth", passwords["auth"])
            connection = await aio_pika.connect(url, timeout=15)
            async with connection:
                channel = await connection.channel(publisher_confirms=True)
                exchange = await channel.declare_exchange(exchange_name(namespace), aio_pika.ExchangeType.TOPIC,
                                                          durable=True)
                await exchange.publish(aio_pika.Message(b"{}"), routing_key="user.registered", timeout=10)
                with pytest.raises(ChannelAccessRefused):
                    await exchange.publish(aio_pika.Message(b"{}"), routing_key="document.shared", timeout=10)
            cleanup = await aio_pika.connect(amqp_url, timeout=15)
            async with cleanup:
                await (await cleanup.channel()).exchange_delete(exchange_name(namespace))
        finally:
            broker_users.delete_locally([u["name"] for u in document["users"]])


class TestEvidenceSeal:
    """Compose runs signing in production mode, which answers evidence PDFs with 503
    evidence-seal-missing unless a seal is configured: a one-shot makes one at first start."""

    async def test_compose_makes_the_seal_once_and_signing_seals_with_it(self, tmp_path: Path) -> None:
        services = compose()["services"]
        maker, signing = services["signing-seal"], services["signing"]
        assert maker["build"]["args"]["SERVICE"] == "signing" and maker["restart"] == "no"
        assert signing["depends_on"]["signing-seal"] == {"condition": "service_completed_successfully"}
        for infrastructure in ("mongo", "rabbitmq"):  # its own depends_on replaces the shared one
            assert signing["depends_on"][infrastructure] == {"condition": "service_healthy"}
        command = maker["command"]
        directory = command[command.index("--dir") + 1]
        (source,) = [v.rsplit(":", 1)[0] for v in maker["volumes"] if v.rsplit(":", 1)[1] == directory]
        (mounted,) = [v for v in signing["volumes"] if v.startswith(source + ":")]
        mount, mode = mounted.removeprefix(source + ":").split(":")
        assert mode == "ro"
        default = re.fullmatch(r"\$\{SIGNING_SEAL_DIR_HOST:-([\w-]+)\}", source)
        assert default is not None and default.group(1) in compose()["volumes"]
        env = signing["environment"]
        paths = [Path(env["SIGNING_EVIDENCE_SEAL_CERT"]), Path(env["SIGNING_EVIDENCE_SEAL_KEY"])]
        assert all(path.parent == Path(mount) for path in paths)

        volume = tmp_path / "signing-seal"
        run = [sys.executable, *command[1:command.index("--dir")], "--dir", str(volume)]
        subprocess.run(run, check=True, capture_output=True, timeout=120)
        first = [(volume / path.name).read_bytes() for path in paths]
        subprocess.run(run, check=True, capture_output=True, timeout=120)  # a restart keeps the seal
        assert [(volume / path.name).read_bytes() for path in paths] == first

        seal = Seal(volume / paths[0].name, volume / paths[1].name)
        sealed = await seal.sign(plain_pdf(), reason="compose wiring")
        (embedded,) = PdfFileReader(BytesIO(sealed)).embedded_signatures
        assert embedded.field_name == FIELD
        assert embedded.signer_cert.subject.native["common_name"] == "DocFlow evidence seal"
