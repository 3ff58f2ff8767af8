"""The compose file, read (the Docker engine cannot run here): it runs the same
entry script as the README, in the order the README promises, with the settings the
README documents; `docker compose config` accepts it where a compose tool exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENTRY_PARTS = set(re.findall(r"^  (\w+)\) ", (ROOT / "bin" / "hems").read_text(), re.MULTILINE))


def test_each_hems_service_runs_a_part_of_the_entry_script():
    hems = {name: service for name, service in SERVICES.items() if service.get("build") == "."}
    assert set(hems) == {"migrate", "web", "worker", "beat", "ingest"}
    for name, service in hems.items():
        assert service["command"] == [name] and name in ENTRY_PARTS
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["[^"]*bin/hems"\]', dockerfile, re.MULTILINE)


def test_nothing_starts_before_the_database_is_ready_and_migrated():
    migrate = SERVICES["migrate"]["depends_on"]
    assert migrate == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    # The broker starts once migrate has written its password and ACL files; the ingest once it answers.
    assert SERVICES["mosquitto"]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert SERVICES["ingest"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "mosquitto": {"condition": "service_healthy"},
    }
    assert SERVICES["migrate"]["restart"] == "no"  # once
    for name in ("postgres", "redis"):
        assert SERVICES[name]["healthcheck"]["test"]
    assert "postgres-data" in COMPOSE["volumes"]


def test_the_settings_it_passes_are_the_documented_ones():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    passed = set(SERVICES["web"]["environment"]) | set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert passed <= documented, passed - documented
    assert "cp .env.example .env && docker compose up --build" in readme


@pytest.mark.skipif(
    not (shutil.which("docker-compose") or shutil.which("docker")), reason="no compose tool on this machine"
)
def test_compose_config_accepts_the_file(tmp_path):
    # A copy beside its own .env: the compose file reads `.env` from its folder, and one
    # in the checkout would be read by every bin/hems the other tests run.
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for tool in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(tool[0]):
            continue
        done = subprocess.run([*tool, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return
        if "unknown" not in done.stderr and "not a docker command" not in done.stderr:
            pytest.fail(done.stderr)
    pytest.skip("no working compose tool (docker without its compose plugin)")


def test_the_quickstart_is_reachable_from_this_machine_only():
    # Its keys and the demo password are public: published on loopback, never 0.0.0.0.
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]
    # Inside the container the server must listen beyond its own loopback to be published;
    # on a host bin/hems listens on loopback unless HEMS_BIND says otherwise.
    assert re.search(r"HEMS_BIND=0\.0\.0\.0:8000", (ROOT / "Dockerfile").read_text())
    assert '"${HEMS_BIND:-127.0.0.1:8000}"' in (ROOT / "bin" / "hems").read_text()


def test_the_one_shot_migrate_service_has_no_healthcheck():
    assert SERVICES["migrate"]["healthcheck"] == {"disable": True}


def test_the_env_example_names_no_database_a_host_lacks():
    # Copied to .env on a host it must not point bin/hems at a role that is not there;
    # compose sets its own DATABASE_URL and REDIS_URL.
    example = (ROOT / ".env.example").read_text()
    assert not re.search(r"^(DATABASE_URL|REDIS_URL)=", example, re.MULTILINE)
    assert re.search(r"^HEMS_GRAPHIQL=true$", example, re.MULTILINE)  # the quickstart's GraphiQL
    for name in ("DATABASE_URL", "REDIS_URL"):
        assert name in SERVICES["web"]["environment"]


def test_the_readme_states_what_builds_the_image():
    readme = (ROOT / "README.md").read_text()
    assert "Docker 23" in readme and "buildah 1.33" in readme
