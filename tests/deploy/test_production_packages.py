"""A production image holds the run-time packages only: nothing of the dev package (``make run``,
the local servers, the test fixtures) nor of its tools, and nothing it installs needs them."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(path.parent.name for path in (ROOT / "services").glob("*/pyproject.toml"))

# what moved to the dev package; none of it may come back into a package an image installs
DEV_MODULES = {
    "docflow_shared.devstack", "docflow_shared.localservers", "docflow_shared.supervisor",
    "docflow_shared.testing", "docflow_mail.sink", "docflow_mail.testing",
}
DEV_DISTRIBUTIONS = {"docflow-dev", "nx-27017", "pytest", "pytest-asyncio", "aiosmtpd", "testcontainers", "ruff",
                     "mypy", "schemathesis", "promql-parser"}
DEV_IMPORTS = ("docflow_dev", "pytest", "_pytest", "aiosmtpd", "testcontainers", "schemathesis", "promql_parser")

# run before anything else in a child interpreter: the dev package and the test tools are not there
WITHOUT_DEV = f"""
import importlib.abc, sys
class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DEV_IMPORTS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} in a production image", name=name)
        return None
sys.meta_path.insert(0, NotInTheImage())
"""


def dockerfile_lines() -> list[str]:
    return (ROOT / "deploy" / "Dockerfile").read_text().replace("\\\n", " ").splitlines()


def installed_dirs(service: str) -> list[Path]:
    """The package directories the image's ``pip install`` names, for one service."""
    lines = [line for line in dockerfile_lines() if re.match(r"RUN\s+pip install\b", line)]
    assert len(lines) == 1, lines
    return [ROOT / arg.replace("${SERVICE}", service) for arg in lines[0].split() if arg.startswith("./")]


def modules(package_dir: Path) -> set[str]:
    """Every module setuptools packs from ``package_dir`` (its ``packages.find`` include patterns)."""
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    found: set[str] = set()
    for init in package_dir.rglob("__init__.py"):
        package = ".".join(init.parent.relative_to(package_dir).parts)
        if any(fnmatch.fnmatchcase(package, pattern) for pattern in include):
            found.add(package)
            found.update(f"{package}.{source.stem}" for source in init.parent.glob("*.py")
                         if source.name != "__init__.py")
    return found


def dependencies(package_dir: Path) -> set[str]:
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    named = [*project.get("dependencies", []),
             *(dep for extra in project.get("optional-dependencies", {}).values() for dep in extra)]
    return {re.split(r"[\s\[<>=!~;]", dep, maxsplit=1)[0].lower() for dep in named}


def run_without_dev(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_DEV + code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)


class TestTheImage:
    def test_copies_and_installs_shared_and_its_service_only(self) -> None:
        copied = [line.split()[1] for line in dockerfile_lines() if line.startswith("COPY ")]
        assert copied == ["constraints.txt", "shared/", "services/${SERVICE}/"]
        for service in SERVICES:
            assert installed_dirs(service) == [ROOT / "shared", ROOT / "services" / service]

    def test_holds_no_module_of_the_dev_package(self) -> None:
        for service in SERVICES:
            packed = set().union(*(modules(folder) for folder in installed_dirs(service)))
            assert f"docflow_{service}.app" in packed and "docflow_shared.backup.__main__" in packed
            assert not packed & DEV_MODULES, service
            assert not [name for name in packed if name.split(".")[0] == "docflow_dev"], service

    def test_installs_none_of_the_dev_tools(self) -> None:
        for service in SERVICES:
            for folder in installed_dirs(service):
                assert not dependencies(folder) & DEV_DISTRIBUTIONS, folder

    def test_every_module_it_installs_imports_without_the_dev_package(self) -> None:
        names = sorted(set().union(*(modules(ROOT / "services" / service) for service in SERVICES),
                                   modules(ROOT / "shared")))
        result = run_without_dev(f"import importlib\nfor name in {names!r}:\n    importlib.import_module(name)\n")
        assert result.returncode == 0, result.stderr[-3000:]
        # the finder does refuse: the dev package itself does not import under it
        refused = run_without_dev("import docflow_dev.testing.asserts")
        assert refused.returncode != 0 and "in a production image" in refused.stderr


class TestBackupInTheImage:
    def test_backs_up_the_database_it_is_given(self, mongo_url: str, run_id: str, tmp_path: Path) -> None:
        env = {**os.environ, "MONGODB_URL": mongo_url, "MONGODB_DB_PREFIX": f"t{run_id}_img{uuid.uuid4().hex[:6]}_",
               "DATA_DIR": str(tmp_path / "data")}
        result = run_without_dev("import sys; from docflow_shared.backup.__main__ import main\n"
                                 f"sys.exit(main(['create', '--dir', {str(tmp_path / 'backups')!r}, "
                                 "'--format', 'bson']))\n", env)
        assert result.returncode == 0, result.stderr[-3000:]
        (backup,) = (tmp_path / "backups").iterdir()
        assert backup.name.startswith("docflow-") and (backup / "manifest.json").is_file()

    def test_without_a_database_url_says_so_instead_of_failing_on_the_import(self, tmp_path: Path) -> None:
        env = {**os.environ, "MONGODB_URL": "", "DATA_DIR": str(tmp_path / "data")}
        result = run_without_dev("import sys; from docflow_shared.backup.__main__ import main\n"
                                 f"sys.exit(main(['create', '--dir', {str(tmp_path / 'backups')!r}]))\n", env)
        assert result.returncode == 1, result.stderr[-3000:]
        assert "MONGODB_URL is not set" in result.stderr and "Traceback" not in result.stderr
