"""Static files: compressed, and under names that carry a hash of their content.

A first visit on a slow mobile connection waits for the stylesheets before it shows
anything, so they are sent compressed (gzip, and Brotli where the browser takes it), and a
later visit should not ask for them again.  ``request.static_url()`` gives a file's *hashed*
name (``grants.3f9a0c1b2d4e.css``: the first 12 hex digits of its SHA-256), which never
names other content, so a browser may keep it for good (``immutable``); the plain name
keeps working with a one-hour lifetime, for links made before a file changed.

Why Pyramid's cache buster plus WhiteNoise, and not one of them alone: Pyramid is what
templates ask for URLs (``static_url``), and its cache buster hook is where a name is
rewritten; but Pyramid's static view only serves files that already exist, compressed
variants included.  WhiteNoise, a maintained WSGI library, serves a file with its
compressed variants (choosing by Accept-Encoding, with ``Vary``, ranges, ``HEAD``, ETag);
it expects those variants on disk next to the file.  So nothing is built ahead: the first
request for a file copies it, under its hashed name, into a private temporary folder with
its ``.gz`` and ``.br`` variants, and WhiteNoise serves that copy from then on.  No build
step for a newcomer to forget, and no cost at start-up (deform alone ships 9 MB of scripts
that pages never load).  What no folder here holds is left to Pyramid, which answers 404.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
import threading

from pyramid.path import AssetResolver
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor
from whitenoise.string_utils import decode_path_info

# The URL folders and what they serve: our files, and deform's (its form.css, its Bootstrap).
FOLDERS = {"static": "grants:static/", "deform_static": "deform:static/"}

SHORT_MAX_AGE = 3600  # a plain, unhashed name: its content may change with the next release

DIGEST_LENGTH = 12
# name.<digest>.ext, or name.<digest> for a file without an extension
HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{%d})(?P<ext>\.[^./]+)?$" % DIGEST_LENGTH)

_digests: dict[str, tuple[tuple[int, int], str]] = {}  # path -> ((mtime, size), digest)


def digest(path: str) -> str:
    """The hash that goes into a file's name, read again when the file changed (its
    modification time or size), so that an edited stylesheet gets a new name without a
    restart."""
    stat = os.stat(path)
    key = (stat.st_mtime_ns, stat.st_size)
    known = _digests.get(path)
    if known is not None and known[0] == key:
        return known[1]
    with open(path, "rb") as f:
        value = hashlib.file_digest(f, "sha256").hexdigest()[:DIGEST_LENGTH]
    _digests[path] = (key, value)
    return value


def hashed_name(name: str, value: str) -> str:
    """``css/form.css`` -> ``css/form.<value>.css``."""
    folder, _, base = name.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    base = f"{stem}.{value}.{ext}" if dot and stem else f"{base}.{value}"
    return f"{folder}/{base}" if folder else base


def unhashed_name(name: str) -> str:
    """The plain name of a hashed one (and a plain name as it is)."""
    match = HASHED.match(name)
    return match["stem"] + (match["ext"] or "") if match else name


def content_hash_cache_buster(request, subpath, kw):
    """Pyramid's cache buster hook: ``static_url`` gives the hashed name of a file that
    exists, and leaves any other name as written (it then answers 404 as before)."""
    path = AssetResolver().resolve(kw["rawspec"]).abspath()
    if not os.path.isfile(path):
        return subpath, kw
    return hashed_name(subpath, digest(path)), kw


def add_static_folder(config, name: str, spec: str) -> None:
    """Serve the folder ``spec`` (an asset spec or an absolute path) at ``/name/``: under
    hashed names through :class:`StaticFiles`, and under plain names by Pyramid's static
    view too, for an app run without the middleware (``make_config`` alone)."""
    config.add_static_view(name, spec, cache_max_age=SHORT_MAX_AGE)
    config.add_cache_buster(spec, content_hash_cache_buster)
    folders = config.registry.__dict__.setdefault("static_folders", {})
    folders[f"/{name}/"] = AssetResolver().resolve(spec).abspath().rstrip(os.sep) + os.sep


def includeme(config):
    for name, spec in FOLDERS.items():
        add_static_folder(config, name, spec)


class StaticFiles(WhiteNoise):
    """WhiteNoise over the Pyramid app (a router), for the folders given to
    :func:`add_static_folder`; files are prepared on their first request (see the
    module's docstring)."""

    def __init__(self, application):
        from grants.web import SECURITY_HEADERS

        def add_headers(headers, path, url):
            # These responses never reach Pyramid's NewResponse subscriber.
            for header, value in SECURITY_HEADERS.items():
                headers[header] = value

        super().__init__(application, max_age=SHORT_MAX_AGE, allow_all_origins=False,
                         add_headers_function=add_headers)
        # Whoever holds the WSGI app (tests, scripts, plugins) still reaches Pyramid's
        # registry through it, as with the bare router.
        self.registry = application.registry
        self.folders: dict[str, str] = application.registry.static_folders  # URL prefix -> folder
        self.compressor = Compressor(quiet=True)
        self.lock = threading.Lock()
        self.build_dir: str | None = None
        self.served: dict[str, tuple[str, object]] = {}  # URL -> (prepared copy, WhiteNoise's StaticFile)

    def __call__(self, environ, start_response):
        static_file = self.find(decode_path_info(environ.get("PATH_INFO", "")))
        if static_file is None:
            return self.application(environ, start_response)
        return self.serve(static_file, environ, start_response)

    def immutable_file_test(self, path, url):
        # The URL names the prepared copy, which is always under its hashed name.
        return url.rpartition("/")[2] == os.path.basename(path)

    def find(self, url: str):
        for prefix, root in self.folders.items():
            if url.startswith(prefix):
                break
        else:
            return None
        if not self.url_is_canonical(url):
            return None
        name = url[len(prefix):]
        source = os.path.join(root, name)
        if not os.path.isfile(source):
            match = HASHED.match(name)
            if match is None:
                return None
            source = os.path.join(root, unhashed_name(name))
            # An old hashed name is not served the new content: it would be kept for good.
            if not os.path.isfile(source) or digest(source) != match["digest"]:
                return None
        if not self.path_is_child_of(source, root):
            return None
        copy = os.path.join(self.prepared_folder(), prefix.strip("/"),
                            hashed_name(unhashed_name(name), digest(source)))
        known = self.served.get(url)
        if known is not None and known[0] == copy:
            return known[1]
        with self.lock:
            if not os.path.exists(copy):
                self.prepare(source, copy)
            static_file = self.get_static_file(copy, url)
            self.served[url] = (copy, static_file)
        return static_file

    def prepared_folder(self) -> str:
        if self.build_dir is None:
            with self.lock:
                if self.build_dir is None:
                    # Private to this process (mode 0700), removed when it exits.
                    self.build_dir = tempfile.mkdtemp(prefix="grants-static-")
                    atexit.register(shutil.rmtree, self.build_dir, ignore_errors=True)
        return self.build_dir

    def prepare(self, source: str, copy: str) -> None:
        """The copy and its compressed variants; the variants first, so that the copy's
        existence means it is complete."""
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        partial = copy + ".partial"
        shutil.copyfile(source, partial)
        if self.compressor.should_compress(source):
            # Written next to the partial copy as partial.gz and partial.br (when smaller
            # by 5 % at least), then moved beside the final name.
            for variant in self.compressor.compress(partial):
                os.replace(variant, copy + variant[len(partial):])
        os.replace(partial, copy)


def serve_static(app):
    """The WSGI app with static files served compressed and under hashed names."""
    return StaticFiles(app)
