"""No Docker engine runs here, so the compose file is checked by reading it: every service's
command names an entry point that exists, the settings in the env file reach the app, only the
proxy is published, everything restarts and reports its health, and the image is not root's."""

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: svc for name, svc in SERVICES.items() if "build" in svc}
VENV_BIN = Path(sys.executable).parent
ONE_SHOT = {"migrate"}


def interpolate(value, env):
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, innermost first."""
    pattern = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^${}]*))?\}")

    def one(match):
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    while pattern.search(value):
        value = pattern.sub(one, value)
    return value.replace("$$", "$")


def read_env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name.strip()] = value.strip()
    return env


def container_env(service, dotenv):
    """What a container of ``service`` gets: the env file, then its interpolated environment."""
    svc = SERVICES[service]
    env = dict(dotenv) if svc.get("env_file") else {}
    env.update({k: interpolate(str(v), dotenv) for k, v in svc.get("environment", {}).items()})
    return env


def production_env(**changes):
    dotenv = read_env_file(ROOT / ".env.example")
    dotenv.update(
        {
            "SECRET_KEY": "x" * 64,
            "POSTGRES_PASSWORD": "secret",
            "APP_DB_PASSWORD": "app-secret",
            "EMAIL_HOST_PASSWORD": "pw",
        }
    )
    dotenv.update(changes)
    return dotenv


def commands_of(svc):
    """Each program line a service runs (``sh -c "a && b"`` is two)."""
    command = svc["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def test_compose_runs_web_worker_beat_and_migrations_from_the_projects_image():
    assert {"web", "worker", "beat", "migrate"} <= set(APP_SERVICES)
    assert {"db", "redis", "proxy"} <= set(SERVICES)
    for svc in APP_SERVICES.values():
        assert svc["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_the_env_file_reaches_the_app_containers_settings():
    """SITE_URL, EMAIL_*, the channel URLs and STUBS_ENABLED from .env are the app's settings."""
    dotenv = production_env(
        SITE_URL="https://driftstorning.example.se",
        EMAIL_HOST="smtp.region.example",
        EMAIL_PORT="2525",
        EMAIL_USE_TLS="1",
        VARDGIVARE_SKANE_URL="https://vgs.example/api/",
        DRIFTINFO_URL="https://driftinfo.example/api/",
        TELEPHONY_URL="https://tel.example/api/",
        STUBS_ENABLED="0",
    )
    for name in APP_SERVICES:
        env = container_env(name, dotenv)
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://"), name
        assert env["DEBUG"] == "0" and env["SECRET_KEY"], name
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_"))}
    env.update(container_env("worker", dotenv))
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", "sqlite:///:memory:")  # no "db" host here
    env.pop("CELERY_BROKER_URL")
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.SITE_URL, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.VARDGIVARE_SKANE_URL, "
        "s.DRIFTINFO_URL, s.TELEPHONY_URL, s.STUBS_ENABLED, s.DEBUG, s.DEMO_MODE]))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "https://driftstorning.example.se",
        "smtp.region.example",
        2525,
        True,
        "https://vgs.example/api/",
        "https://driftinfo.example/api/",
        "https://tel.example/api/",
        False,
        False,
        False,
    ]


def test_compose_refuses_to_start_without_the_required_settings():
    for missing in ("SECRET_KEY", "APP_DB_PASSWORD", "SITE_URL", "ALLOWED_HOSTS"):
        with pytest.raises(KeyError, match=missing):
            container_env("web", production_env(**{missing: ""}))
    # The owner's password: the database and the migrations, not the app's own processes.
    for service in ("db", "migrate"):
        with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
            container_env(service, production_env(POSTGRES_PASSWORD=""))


def test_only_the_proxy_is_published_while_the_app_trusts_x_forwarded_proto():
    for name, svc in APP_SERVICES.items():
        env = container_env(name, production_env())
        if env.get("TRUST_X_FORWARDED_PROTO") == "1":
            assert "ports" not in svc, f"{name} publishes its port but trusts X-Forwarded-Proto"
    assert [name for name, svc in SERVICES.items() if "ports" in svc] == ["proxy"]
    # Only the proxy's X-Forwarded-For is believed.
    proxy_address = SERVICES["proxy"]["networks"]["backend"]["ipv4_address"]
    assert container_env("web", production_env())["TRUSTED_PROXIES"] == proxy_address
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "web 8000" in caddyfile and "/certs/cert.pem" in caddyfile
    mounts = " ".join(SERVICES["proxy"]["volumes"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile" in mounts


def test_every_service_restarts_and_reports_its_health():
    for name, svc in SERVICES.items():
        if name in ONE_SHOT:
            assert svc["restart"] == "on-failure", name
            continue
        assert svc.get("restart") in {"unless-stopped", "always"}, name
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for dependency in ("db", "redis"):
        assert APP_SERVICES["web"]["depends_on"] != {}  # migrate first
        assert SERVICES["migrate"]["depends_on"][dependency]["condition"] == "service_healthy"


def test_health_check_commands_exist():
    from django.core.management import get_commands

    beat = SERVICES["beat"]["healthcheck"]["test"]
    assert beat[1:4] == ["python", "manage.py", "healthcheck"] and "healthcheck" in get_commands()
    assert "inspect ping" in SERVICES["worker"]["healthcheck"]["test"][1]
    assert "/healthz" in SERVICES["web"]["healthcheck"]["test"][-1]


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_service_command_names_an_entry_point_that_exists(name):
    for command in commands_of(APP_SERVICES[name]):
        program = command[0]
        assert (VENV_BIN / program).exists() or shutil.which(program), f"{program} is not installed"
        if program == "gunicorn":
            module, attr = command[1].split(":")
            application = getattr(importlib.import_module(module), attr)
            assert callable(application)
        elif program == "celery":
            assert command[1] == "-A"
            module = importlib.import_module(command[2])
            # The package's app (worker), or runbook.beat's own (`app`, as Celery finds it).
            celery_app = getattr(module, "celery_app", None) or module.app
            assert celery_app.main == "runbook"
            subcommand = command[3]
            assert subcommand in {"worker", "beat"}
            # The CLI itself accepts the subcommand and its options.
            result = subprocess.run(
                [str(VENV_BIN / "celery"), "-A", command[2], subcommand, "--help"],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
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


def test_the_image_runs_as_an_unprivileged_user_and_ships_no_secrets():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "runbook.wsgi:application" in dockerfile
    assert "uv sync --frozen" in dockerfile
    lines = [line.split() for line in dockerfile.splitlines() if line.strip() and not line.startswith("#")]
    users = [i for i, line in enumerate(lines) if line[0] == "USER"]
    runs = [i for i, line in enumerate(lines) if line[0] == "RUN"]
    assert users and users[-1] > runs[-1], "the last USER must come after the last RUN"
    assert lines[users[-1]][1] not in {"root", "0", "0:0"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and "deploy/certs" in ignored


def test_start_up_refuses_a_loopback_site_url():
    """The migrate service's check: the stack does not start with SA's links to 127.0.0.1."""
    (check,) = [c for c in commands_of(SERVICES["migrate"]) if c[2] == "check"]
    env = {**os.environ, "SITE_URL": "http://127.0.0.1:8000", "EMAIL_URL": "https://mail.example/"}
    result = subprocess.run([sys.executable, *check[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "runbook.E010" in result.stderr
    env["SITE_URL"] = "https://driftstorning.example.se"
    result = subprocess.run([sys.executable, *check[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_app_connects_as_its_own_role_and_migrations_run_as_the_owner():
    """The app's role may not rewrite the timeline (tests/test_db_roles.py); the owner migrates."""
    from urllib.parse import urlsplit

    dotenv = production_env()
    db = SERVICES["db"]["environment"]
    owner, app_role = db["POSTGRES_USER"], db["APP_DB_USER"]
    assert owner != app_role
    for name in APP_SERVICES:
        app_url = urlsplit(container_env(name, dotenv)["DATABASE_URL"])
        assert (app_url.username, app_url.password) == (app_role, "app-secret"), name
    migrate_env = container_env("migrate", dotenv)
    owner_url = urlsplit(migrate_env["MIGRATE_DATABASE_URL"])
    assert (owner_url.username, owner_url.password, owner_url.path) == (owner, "secret", "/" + db["POSTGRES_DB"])
    assert all("MIGRATE_DATABASE_URL" not in container_env(name, dotenv) for name in APP_SERVICES if name != "migrate")
    assert interpolate(db["APP_DB_PASSWORD"], dotenv) == "app-secret"
    assert "./deploy/db-init:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]


@pytest.mark.postgres
def test_the_db_init_script_makes_the_apps_role(require_postgres, db):
    """As the postgres image runs it on a new data directory; the role logs in with its password."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    role = f"{s['NAME']}_init_app"
    env = {
        **os.environ,
        "PGHOST": s["HOST"] or "127.0.0.1",
        "PGPORT": str(s["PORT"] or 5432),
        "PGPASSWORD": s.get("PASSWORD") or "",
        "POSTGRES_USER": s["USER"],
        "POSTGRES_DB": s["NAME"],
        "APP_DB_USER": role,
        "APP_DB_PASSWORD": "init-secret",
    }
    where = f"host={env['PGHOST']} port={env['PGPORT']} dbname={s['NAME']}"
    admin = f"{where} user={s['USER']}"
    try:
        for _ in range(2):  # run again (by hand, on an older database) it changes nothing
            result = subprocess.run(
                ["sh", str(ROOT / "deploy/db-init/10-app-role.sh")], env=env, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, result.stderr
        with psycopg.connect(f"{where} user={role} password=init-secret") as conn:
            flags = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        assert flags == (False, False, False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'REVOKE ALL ON DATABASE "{s["NAME"]}" FROM "{role}"')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_backup_service_dumps_the_database_daily_and_says_when_it_has_not(tmp_path):
    """bin/backup itself is rehearsed in tests/test_backup_restore.py."""
    backup = SERVICES["backup"]
    env = {k: interpolate(str(v), production_env()) for k, v in backup["environment"].items()}
    assert env["BACKUP_DATABASE_URL"] == container_env("migrate", production_env())["MIGRATE_DATABASE_URL"]
    assert env["BACKUP_INTERVAL_SECONDS"] == "86400" and int(env["BACKUP_KEEP_DAYS"]) >= 7
    assert "./bin:/opt/runbook/bin:ro" in backup["volumes"] and "backups:/backups" in backup["volumes"]
    assert "backups" in COMPOSE["volumes"]
    assert "/opt/runbook/bin/backup" in backup["entrypoint"][-1]
    assert (ROOT / "bin" / "backup").stat().st_mode & 0o111
    # The health check, as the container's shell runs it, on a folder of dumps.
    check = backup["healthcheck"]["test"][1].replace("$$", "$").replace("/backups", str(tmp_path))
    healthy = {**os.environ, "BACKUP_INTERVAL_SECONDS": env["BACKUP_INTERVAL_SECONDS"]}
    dump = tmp_path / "runbook-20260101T020000Z.dump"
    dump.write_bytes(b"dump")
    assert subprocess.run(["sh", "-c", check], env=healthy).returncode == 0
    os.utime(dump, (0, 0))
    assert subprocess.run(["sh", "-c", check], env=healthy).returncode != 0
