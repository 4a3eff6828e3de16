"""docs/plugins.md's guide, run as a reader would: every file it shows written, every
command it shows run in order, in a virtual environment of its own, and its diagram
compared with what grants draws."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
FILE = re.compile(r"^`([^`]+)`:\n\n```[a-z]*\n(.*?)\n```$", re.M | re.S)
BLOCK = re.compile(r"^```(sh|mermaid)\n(.*?)\n```$", re.M | re.S)


def guide_steps():
    """The guide's files and command blocks, in order: ("file", path, text),
    ("sh", commands) or ("mermaid", text)."""
    text = DOC.read_text(encoding="utf-8")
    guide = text[text.index("<!-- guide:start -->"):text.index("<!-- guide:end -->")]
    steps = [(m.start(), "file", m.group(1), m.group(2)) for m in FILE.finditer(guide)]
    steps += [(m.start(), m.group(1), m.group(2), None) for m in BLOCK.finditer(guide)]
    return [step[1:] for step in sorted(steps)]


def reader_environment(folder: Path) -> dict:
    """A virtual environment of its own that sees this grants (and what it needs), so the
    guide's `pip install -e` goes there and nowhere else."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site_packages, "grants-under-test.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    for command, module in (("grants", "grants.cli"), ("pytest", "pytest"), ("pybabel", "babel.messages.frontend")):
        script = venv / "bin" / command
        script.write_text(f"#!{python}\nimport sys\nfrom {module} import main\nsys.exit(main())\n")
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRANTS_TEST_", "PYTEST_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_guide_has_files_commands_and_a_diagram():
    kinds = [step[0] for step in guide_steps()]
    assert kinds.count("file") >= 8 and kinds.count("sh") >= 3 and kinds[-1] == "mermaid"


def test_the_plugin_guide_works_command_by_command(tmp_path):
    env = reader_environment(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    diagram = None
    for kind, first, second in guide_steps():
        if kind == "file":
            path = work / first
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(second + "\n", encoding="utf-8")
        elif kind == "sh":
            done = subprocess.run(["bash", "-e", "-c", first], cwd=work, env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"{first}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        else:
            diagram = first
    assert list((work / "municipal/municipal/migrations/versions").glob("municipal_*_panel_votes.py"))
    assert "<svg" in (work / "municipal_application.svg").read_text() and "Panel vote" in (work / "municipal_application.svg").read_text()
    drawn = subprocess.run(["grants", "workflow", "graph", "deployment.ini", "municipal_application",
                            "--format", "mermaid"], cwd=work, env=env, capture_output=True, text=True, check=True)
    assert drawn.stdout.strip() == textwrap.dedent(diagram).strip(), (
        f"the guide's diagram is out of date; it is now:\n{drawn.stdout}")
