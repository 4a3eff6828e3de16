"""Static files (grants.static_files): pages link content-hashed names, served compressed
and kept for a year or more; plain names still work for an hour; a changed file gets a new
name; what does not exist is a 404."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest
import webtest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from grants.static_files import HASHED, add_static_folder, serve_static, unhashed_name

YEAR = 365 * 24 * 3600


def max_age(response_or_headers) -> int:
    return int(re.search(r"max-age=(\d+)", response_or_headers.headers["Cache-Control"])[1])


def stylesheets(page) -> list[str]:
    return [urlsplit(link["href"]).path for link in page.html.find_all("link", rel="stylesheet")]


def source_of(app, url: str) -> Path:
    """The file a static URL names, found from the folders the app serves."""
    prefix, _, name = url[1:].partition("/")
    return Path(app.folders[f"/{prefix}/"]) / unhashed_name(name)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_layout_links_every_stylesheet_under_the_hash_of_its_content(testapp, app, lang):
    sheets = stylesheets(testapp.get("/", headers={"Cookie": f"grants_lang={lang}"}))
    assert len(sheets) == 3, sheets  # Bootstrap in the page's direction, deform's form.css, ours
    for url in sheets:
        match = HASHED.match(url.rpartition("/")[2])
        assert match, url
        content = source_of(app, url).read_bytes()
        assert match["digest"] == hashlib.sha256(content).hexdigest()[:12]


def raw_get(app, url: str, **headers):
    """The response as the app sends it: WebTest would decode a gzip body, and refuse Brotli."""
    return Request.blank(url, headers={"Host": "localhost", **headers}).get_response(app)


def test_a_hashed_stylesheet_is_sent_compressed_and_kept_for_good(testapp, app):
    sheets = stylesheets(testapp.get("/", headers={"Cookie": "grants_lang=ar"}))
    bootstrap = next(url for url in sheets if "/bootstrap" in url)
    content = source_of(app, bootstrap).read_bytes()
    assert len(content) > 200_000  # the vendored Bootstrap

    plain = raw_get(app, bootstrap)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers and plain.body == content

    zipped = raw_get(app, bootstrap, **{"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == content
    assert len(zipped.body) < len(content) / 5
    assert "Accept-Encoding" in zipped.headers["Vary"]

    squeezed = raw_get(app, bootstrap, **{"Accept-Encoding": "gzip, deflate, br"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.body) == content
    assert len(squeezed.body) < len(zipped.body)

    for response in (plain, zipped, squeezed):
        assert max_age(response) >= YEAR and "immutable" in response.headers["Cache-Control"]
        assert response.content_type == "text/css"
        # These responses never pass through Pyramid: the security headers come along anyway.
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_plain_name_still_works_for_an_hour(testapp, app):
    response = raw_get(app, "/deform_static/css/form.css", **{"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body) == source_of(app, "/deform_static/css/form.css").read_bytes()
    assert max_age(response) == 3600 and "immutable" not in response.headers["Cache-Control"]
    assert testapp.head("/static/grants.css").headers["Cache-Control"] == "max-age=3600, public"


@pytest.mark.parametrize("url", [
    "/static/nothing.css",
    "/static/grants.000000000000.css",  # a hash that is not the file's
    "/static/vendor/bootstrap/bootstrap.rtl.min.css.gz",
    "/static/vendor/",
    "/deform_static/nothing.js",
    "/static/%2e%2e/static_files.py",
])
def test_an_unknown_static_file_is_a_404_page(testapp, url):
    page = testapp.get(url, status=404)
    assert page.content_type == "text/html"
    assert testapp.head(url, status=404).body == b""


def test_through_waitress_the_compressed_stylesheet_and_its_headers(testapp, live_server):
    sheet = next(url for url in stylesheets(testapp.get("/")) if url.endswith(".css") and "/grants." in url)
    host = urlsplit(live_server).netloc
    for method in ("HEAD", "GET"):
        connection = http.client.HTTPConnection(host, timeout=10)
        connection.request(method, sheet, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 200
        assert response.getheader("Content-Encoding") == "gzip"
        assert "immutable" in response.getheader("Cache-Control")
        assert int(re.search(r"max-age=(\d+)", response.getheader("Cache-Control"))[1]) >= YEAR
        length = int(response.getheader("Content-Length"))
        if method == "GET":
            assert len(body) == length and b"@media print" in gzip.decompress(body)
        else:
            assert body == b"" and length > 0
    connection = http.client.HTTPConnection(host, timeout=10)
    connection.request("HEAD", "/static/missing.css")
    assert connection.getresponse().status == 404
    connection.close()


def test_a_changed_file_gets_a_new_name_and_the_old_name_is_gone(tmp_path):
    """On a Pyramid app of its own, over a folder the test may change."""
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: black }")
    config = Configurator()
    add_static_folder(config, "assets", str(tmp_path))
    config.add_route("home", "/")
    config.add_view(lambda request: Response(request.static_url(str(sheet))), route_name="home")
    testapp = webtest.TestApp(serve_static(config.make_wsgi_app()))

    first = urlsplit(testapp.get("/").text).path
    assert HASHED.match(first.rpartition("/")[2]) and testapp.get(first).text == "body { color: black }"

    sheet.write_text("body { color: darkslategrey }")
    second = urlsplit(testapp.get("/").text).path
    assert second != first
    assert testapp.get(second).text == "body { color: darkslategrey }"
    assert "immutable" in testapp.get(second).headers["Cache-Control"]
    testapp.get(first, status=404)  # never the new content under a name kept for good
    assert testapp.get("/assets/site.css").text == "body { color: darkslategrey }"
