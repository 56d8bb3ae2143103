"""/docs renders its operations with no network but 127.0.0.1: Swagger UI's assets come from the
app, not a CDN. Checked in headless Chromium (Debian's ``chromium``) whose other traffic goes
nowhere."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from docflow_dev.devstack import Stack, free_port
from docflow_dev.testing.plugin import own_database_and_namespace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, every host but 127.0.0.1 unreachable."""
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_operations_listed(base_url: str, dom: str) -> None:
    paths = httpx.get(f"{base_url}/openapi.json", timeout=10).json()["paths"]
    assert paths
    assert 'class="opblock opblock-' in dom, dom[-2000:]
    for path in paths:
        assert f'data-path="{path}"' in dom, f"{path} is not listed:\n{dom[-2000:]}"


def test_gateway_docs_render_operations_offline(gateway: str, tmp_path: Path) -> None:
    assert_operations_listed(gateway, rendered_dom(f"{gateway}/docs", tmp_path / "profile"))


@pytest.fixture(scope="module")
def mail_service(platform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = own_database_and_namespace(platform_env, "docs")
    running = Stack(env=env, ports={"mail": free_port()}, only=("mail",),
                    log_dir=tmp_path_factory.mktemp("mail-docs")).start()
    yield running.url("mail")
    running.stop()


def test_a_service_s_own_docs_render_operations_offline(mail_service: str, tmp_path: Path) -> None:
    assert_operations_listed(mail_service, rendered_dom(f"{mail_service}/docs", tmp_path / "profile"))


def test_no_page_of_a_service_loads_its_scripts_from_a_cdn(mail_service: str) -> None:
    # ReDoc's page has no offline bundle here; a page that would be blank in a closed network is not served.
    for page in ("/docs", "/redoc"):
        answer = httpx.get(f"{mail_service}{page}", timeout=10)
        assert answer.status_code == 404 or "cdn.jsdelivr.net" not in answer.text, page
