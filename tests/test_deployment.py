"""No Docker engine runs here, so the compose file is checked by reading it: every service's
command must name an entry point that exists in this project and its locked dependencies."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {name: svc for name, svc in COMPOSE["services"].items() if "build" in svc}
VENV_BIN = Path(sys.executable).parent


def test_compose_runs_web_worker_beat_and_migrations_from_the_projects_image():
    assert {"web", "worker", "beat", "migrate"} <= set(APP_SERVICES)
    assert {"db", "redis"} <= set(COMPOSE["services"])
    for svc in APP_SERVICES.values():
        assert svc["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_app_services_take_their_settings_from_the_environment():
    for name, svc in APP_SERVICES.items():
        env = svc["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://"), name
        assert "SECRET_KEY" in env and env["DEBUG"] == "0", name


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_service_command_names_an_entry_point_that_exists(name):
    command = APP_SERVICES[name]["command"]
    program = command[0]
    assert (VENV_BIN / program).exists() or shutil.which(program), f"{program} is not installed"
    if program == "gunicorn":
        module, attr = command[1].split(":")
        application = getattr(importlib.import_module(module), attr)
        assert callable(application)
    elif program == "celery":
        assert command[1] == "-A"
        celery_app = importlib.import_module(command[2]).celery_app
        assert celery_app.main == "runbook"
        subcommand = command[3]
        assert subcommand in {"worker", "beat"}
        # The CLI itself accepts the subcommand and its options.
        result = subprocess.run(
            [str(VENV_BIN / "celery"), "-A", command[2], subcommand, "--help"],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        for option in command[4:]:
            assert option.split("=")[0] in result.stdout
    elif program == "python":
        assert command[1] == "manage.py" and (ROOT / "manage.py").is_file()
        from django.core.management import get_commands

        assert command[2] in get_commands()
    else:
        pytest.fail(f"unexpected program {program}")


def test_exactly_one_beat_is_deployed():
    beat = APP_SERVICES["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_dockerfile_serves_the_same_wsgi_application():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "runbook.wsgi:application" in dockerfile
    assert "uv sync --frozen" in dockerfile
