"""The package as an organiser installs it: a wheel, in a fresh environment, outside the checkout.

The wheel is built the way `pipx install .` or a deployment builds it, from the tracked files of
the checkout alone (a fresh clone), via its sdist, so both must carry the templates, the static
files and the bundled decks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from polling.config import PACKAGE_DIR
from tests.server_process import ServerProcess

CHECKOUT = PACKAGE_DIR.parent
WAIT = 30
PASSWORD = "a-long-organiser-password"


def tracked_files() -> list[str]:
    """The files a fresh clone has (with the changes not yet committed)."""
    if shutil.which("git") is None or not (CHECKOUT / ".git").exists():
        pytest.skip("not a git checkout: nothing to build the wheel from")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=CHECKOUT, capture_output=True, check=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name and (CHECKOUT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone")
    for name in tracked_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, clone / name)
    dist = tmp_path_factory.mktemp("dist")
    # No isolation: the build tools of the test environment, so nothing is downloaded.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(clone)],
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("polling-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel; its dependencies are borrowed from the test
    environment (a path entry, not an install), so the test needs no network."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]))
        + "\n"
    )
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"),
            *("--no-index", str(wheel)),
        ],
        check=True,
        capture_output=True,
    )
    return venv


def test_the_wheel_carries_every_package_template_static_file_and_deck(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = tracked_files()
    for folder in ("templates", "static", "statements"):
        files = [name for name in tracked if name.startswith(f"{folder}/")]
        assert files
        missing = [name for name in files if f"polling/{name}" not in names]
        assert not missing, f"not in the wheel: {missing}"
    assert "polling/static/vendor/socket.io/LICENSE" in names
    packages = [name for name in tracked if re.fullmatch(r"polling/(.+/)?__init__\.py", name)]
    assert [name for name in packages if name not in names] == []


def test_the_installed_wheel_counts_the_words_of_reasons(wheel, installed, tmp_path):
    """The words view's stop word lists and stemmers are the dependencies' own files, read
    from disk: named in the wheel's requirements, and found from anywhere."""
    metadata = zipfile.ZipFile(wheel).read("polling-0.1.0.dist-info/METADATA").decode()
    requires = re.findall(r"^Requires-Dist: ([\w-]+)", metadata, re.MULTILINE)
    assert {"stop-words", "snowballstemmer"} <= set(requires)
    counted = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "from polling.domain.words import word_counts; "
            "print(word_counts(['De kosten zijn te hoog', 'Die kost is hoog', 'The costs'], 'nl'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert counted.stdout.strip() == "[('hoog', 2), ('kost', 2), ('costs', 1)]"


def test_the_installed_wheel_serves_every_page_and_asset(installed, tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    python = installed / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import polling.config as c; print(c.asset_path('templates'))"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed), where

    server = ServerProcess(
        tmp_path,
        polling=installed / "bin" / "polling",
        cwd=elsewhere,
        POLLING_ADMIN_PASSWORD=PASSWORD,
    )
    for variable in ("POLLING_DECKS", "POLLING_DECKS_DIR", "PYTHONPATH"):
        server.environment.pop(variable, None)
    server.start()
    try:
        # The bundled deck, found in the package: there is no statements/ here.
        assert "Created a new event from ai-in-de-zorg.toml" in server.printed
        moderator_key = server.key("moderator")
        pages = [
            f"{server.base_url}/",
            server.urls["join"],
            server.urls["presenter"],
            server.urls["moderator"],
            f"{server.base_url}/{server.code}/results?key={moderator_key}",
            f"{server.base_url}/organiser/login",
        ]
        http = requests.Session()
        assets: set[str] = set()
        for page in pages:
            response = http.get(page, timeout=WAIT)
            assert response.status_code == 200, page
            assets.update(
                urljoin(page, link)
                for link in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)
            )
        login = http.get(f"{server.base_url}/organiser/login", timeout=WAIT).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', login)[1]
        listing = http.post(
            f"{server.base_url}/organiser/login",
            data={"csrf": csrf, "password": PASSWORD},
            timeout=WAIT,
        )
        assert listing.status_code == 200 and server.code[:3] in listing.text
        assert "ai-in-de-zorg.toml" in listing.text  # the bundled decks are offered there too

        assert f"{server.base_url}/static/css/app.css" in assets
        # Every static file, the modules the scripts import included, as the checkout has it.
        for name in tracked_files():
            if name.startswith("static/"):
                response = requests.get(f"{server.base_url}/{name}", timeout=WAIT)
                assert response.status_code == 200, name
                assert response.content == (CHECKOUT / name).read_bytes(), name
        for asset in assets:
            assert requests.get(asset, timeout=WAIT).status_code == 200, asset
        for name in ("qr.svg", f"export/results.xlsx?key={moderator_key}"):
            assert requests.get(f"{server.base_url}/{server.code}/{name}", timeout=WAIT).ok
    finally:
        server.stop()
