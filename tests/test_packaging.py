"""A wheel built from the repository, installed (not editable) into a fresh virtualenv,
carries its templates, workflows, static files, migrations and compiled translations, and
serves the app through pserve and waitress."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=None, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    (built,) = out.glob("grants-*.whl")
    return built


def test_wheel_carries_templates_workflows_static_migrations_and_translations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in [
        "grants/templates/layout.pt",
        "grants/templates/accounts/login.pt",
        "grants/workflows/round.toml",
        "grants/workflows/application.toml",
        "grants/static/vendor/bootstrap/bootstrap.rtl.min.css",
        "grants/static/grants.css",
        "grants/locale/ar/LC_MESSAGES/deform.mo",
        "grants/locale/ar/LC_MESSAGES/colander.mo",
        "grants/locale/ar/LC_MESSAGES/grants.mo",
        "grants/locale/fr/LC_MESSAGES/grants.mo",
        "grants/migrations/env.py",
        "grants/migrations/script.py.mako",
        "grants/migrations/versions/0001_initial_schema.py",
        "grants/data/regions/TN.csv",  # the region catalogue (grants.regions)
        "grants/data/regions/GB.csv",
        "grants/testing.py",  # the pytest fixtures plugins' suites use
        "grants/plugin_template/pyproject.toml.tmpl",  # what `grants plugin new` writes
        "grants/plugin_template/__name__/migrations/versions/__name___0001_briefings.py.tmpl",
        "grants/plugin_template/__name__/locale/ar/LC_MESSAGES/grants.po.tmpl",
    ]:
        assert required in names, required
    assert not any(n.startswith(("tests/", "templates/", "workflows/")) for n in names)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wheel_installed_in_a_fresh_virtualenv_serves_the_app(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bin_ = venv / "bin"
    run(bin_ / "pip", "install", "-q", wheel, timeout=900)
    where = run(bin_ / "python", "-c", "import grants, grants.templates; print(grants.__file__)", cwd=tmp_path)
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout

    port = _free_port()
    ini = tmp_path / "site.ini"
    ini.write_text(
        "[app:main]\nuse = egg:grants\n"
        f"sqlalchemy.url = sqlite:///{tmp_path / 'site.sqlite'}\n"
        "grants.secret = wheel-test\nmail.backend = console\n\n"
        f"[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n"
    )
    run(bin_ / "grants", "initdb", ini, cwd=tmp_path)
    run(bin_ / "grants", "plugin", "new", "wheel_made", "--directory", tmp_path / "wheel_made", cwd=tmp_path)
    assert (tmp_path / "wheel_made/wheel_made/locale/fr/LC_MESSAGES/grants.mo").is_file()
    log = (tmp_path / "pserve.log").open("wb")
    server = subprocess.Popen([str(bin_ / "pserve"), str(ini)], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    try:
        base = f"http://127.0.0.1:{port}"
        # The server listens once every page template is compiled (grants.templating): a
        # few seconds, more on a busy machine with no bytecode written.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                fetch(base + "/")
                break
            except OSError:
                time.sleep(0.2)
        html = fetch(urllib.request.Request(base + "/", headers={"Cookie": "grants_lang=ar"}))
        assert 'lang="ar"' in html and 'dir="rtl"' in html
        assert "تسجيل الدخول" in html  # "Sign in", from the compiled Arabic catalog
        # The layout links Bootstrap under a hashed name (grants.static_files); both names serve it.
        hashed = re.search(r'href="[^"]*(/static/vendor/bootstrap/bootstrap\.rtl\.min\.[0-9a-f]{12}\.css)"', html)
        assert hashed, html
        assert "Bootstrap" in fetch(base + hashed[1])
        assert "Bootstrap" in fetch(base + "/static/vendor/bootstrap/bootstrap.rtl.min.css")
        workflows = fetch(base + "/workflows")
        assert "<svg" in workflows and "Open the round" in workflows
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def fetch(url_or_request) -> str:
    with urllib.request.urlopen(url_or_request, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()
