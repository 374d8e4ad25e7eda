"""Hostile uploads, for message attachments and for document images: the content decides the
type (never the name or the declared Content-Type), names cannot reach the file system, active
content is never served inline, and image bombs are refused before they are decoded.

The ordinary upload behaviour (thumbnails, quotas, who may read) is in
tests/messaging/test_attachments.py and tests/docs_collab/test_images.py.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from docs_collab.models import DocImage
from hub.errors import HubError
from messaging.attachments import clean_display_name
from messaging.models import Attachment
from tests.conftest import World
from tests.docs_collab.conftest import make_document
from tests.messaging.helpers_http import create_conversation

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (60, 140, 90)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes that claim ``width`` × ``height`` 1-bit pixels: the header is all a
    decoder needs to allocate gigabytes, so the size check must happen before decoding."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024, 9)  # far too little data; never decoded
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def gif_html_polyglot() -> bytes:
    """A valid GIF whose comment extension holds an HTML page: sniffed as HTML by a careless
    browser, so it must only ever be served as image/gif with nosniff."""
    out = io.BytesIO()
    Image.new("P", (8, 8), 1).save(out, "GIF", comment=b"<html><script>window.__xss(1)</script></html>")
    return out.getvalue()


class Target:
    """One upload endpoint (attachments or document images) behind a common interface."""

    def __init__(self, world: World, kind: str) -> None:
        self.world, self.kind = world, kind
        if kind == "attachment":
            conv = create_conversation(world, world.owner, "public", "上传", member_ids=[world.member.user.pk])
            self.path = f"/api/v1/conversations/{conv}/attachments"
        else:
            self.path = f"/api/v1/documents/{make_document(world).pk}/images"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.member.token}"}

    def upload(self, name: str, content: bytes, declared: str = "application/octet-stream") -> Any:
        f = SimpleUploadedFile(name, content, content_type=declared)
        return self.world.api(None).client.post(self.path, {"file": f}, headers=self._auth)

    def fetch(self, url: str) -> Any:
        # The uploader: a file not yet sent in a message is readable only by them.
        return self.world.api(None).client.get(url, headers=self._auth)

    def stored(self) -> list[Any]:
        model = Attachment if self.kind == "attachment" else DocImage
        return list(model.objects.all())


@pytest.fixture(params=["attachment", "document-image"])
def target(request: Any, world: World) -> Target:
    return Target(world, request.param)


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# --- content decides the type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("invoice.png", b"<!doctype html><script>window.__xss(1)</script>", "image/png"),
        ("invoice.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='__xss(1)'/>", "image/jpeg"),
        ("photo.gif", b"GIF89a<script>__xss(1)</script>", "image/gif"),  # magic bytes, no image
        ("photo.webp", b"RIFF\x00\x00\x00\x00WEBP<script>", "image/webp"),
    ],
)
def test_markup_renamed_as_an_image_is_refused(target: Target, name: str, content: bytes, declared: str) -> None:
    response = target.upload(name, content, declared)
    assert response.status_code == 415, response.content
    assert _code(response) == "invalid_image"
    assert target.stored() == []


@pytest.mark.parametrize("name", ["page.html", "page.htm", "logo.svg", "x.xhtml", "x.xml", "run.js", "a.mhtml"])
def test_active_content_types_are_refused_even_with_an_image_inside(target: Target, name: str) -> None:
    """An allowed image under a dangerous name: the name's type is refused outright, so the
    file can never be served under it."""
    response = target.upload(name, png(), "image/png")
    assert response.status_code == 415, response.content
    assert _code(response) == "unsupported_type"


def test_a_png_declared_as_text_is_stored_and_served_as_the_png_it_is(world: World) -> None:
    target = Target(world, "attachment")
    response = target.upload("说明.txt", png(), "text/plain")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png" and body["name"] == "说明.txt"
    served = target.fetch(body["url"])
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    (stored,) = target.stored()
    assert stored.file.name.endswith(".png")  # stored under the content's extension


def test_a_gif_html_polyglot_is_only_ever_an_image(target: Target) -> None:
    response = target.upload("poly.gif", gif_html_polyglot(), "text/html")
    assert response.status_code == 201, response.content
    served = target.fetch(response.json()["url"])
    assert served["Content-Type"] == "image/gif"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    assert "default-src 'none'" in served["Content-Security-Policy"]


def test_html_inside_a_text_or_pdf_file_is_downloaded_never_rendered(world: World) -> None:
    target = Target(world, "attachment")
    for name, content in [
        ("notes.txt", b"<html><body><script>window.__xss(1)</script></body></html>"),
        ("table.csv", b"a,b\n<img src=x onerror=__xss(1)>,2\n"),
        ("report.pdf", b"%PDF-1.4\n<html><script>window.__xss(1)</script></html>"),
    ]:
        response = target.upload(name, content, "text/html")
        assert response.status_code == 201, (name, response.content)
        served = target.fetch(response.json()["url"])
        assert served["Content-Type"] != "text/html"
        assert served["Content-Disposition"].startswith("attachment;"), name
        assert served["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served["Content-Security-Policy"]


def test_document_images_refuse_files_that_are_not_images(world: World) -> None:
    target = Target(world, "document-image")
    response = target.upload("notes.txt", b"just text", "text/plain")
    assert response.status_code == 415 and _code(response) == "not_an_image"
    response = target.upload("report.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    assert response.status_code == 415 and _code(response) == "not_an_image"


# --- image bombs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(10_000, 10_000), (100_000, 100_000), (2**31 - 1, 2**31 - 1)])
def test_decompression_bombs_are_refused_from_the_header(target: Target, width: int, height: int) -> None:
    bomb = png_bomb(width, height)
    assert len(bomb) < 2000
    response = target.upload("bomb.png", bomb, "image/png")
    # Past our pixel limit: 413; past Pillow's own bomb guard it is not even an image: 415.
    assert response.status_code in (413, 415), response.content
    assert _code(response) in ("image_too_large", "invalid_image")
    assert target.stored() == []


def test_a_truncated_image_is_refused(target: Target) -> None:
    response = target.upload("cut.png", png((300, 300))[:200], "image/png")
    assert response.status_code == 415 and _code(response) == "invalid_image"


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("/etc/shadow.txt", "shadow.txt"),
        ("C:\\Users\\x\\报价单.txt", "报价单.txt"),
        ("....//....//x.txt", "x.txt"),
        ("evil\x00.png.txt", "evil.png.txt"),
        ("x.txt\r\nContent-Type: text/html", "html"),  # header injection loses to the path rule
        ("line\r\nbreak.txt", "linebreak.txt"),
        ("\u202egnp.txt", "gnp.txt"),  # right-to-left override: shows as "txt.png"
        ("a\u2066b\u2069.txt", "ab.txt"),
        ("季度报表（最终版）.txt", "季度报表（最终版）.txt"),
        ("..", None),
        ("../", None),
        ("\x00\x01", None),
    ],
)
def test_names_lose_their_paths_and_controls_and_keep_chinese(raw: str, shown: str | None) -> None:
    if shown is None:
        with pytest.raises(HubError) as caught:
            clean_display_name(raw)
        assert caught.value.code == "invalid_file_name"
    else:
        assert clean_display_name(raw) == shown


def test_a_very_long_name_is_cut_but_keeps_its_extension() -> None:
    name = clean_display_name("长" * 1000 + ".txt")
    assert len(name) == 255 and name.endswith("长.txt")


@pytest.mark.parametrize("name", ["../../../../tmp/pwned.txt", "..\\..\\pwned.txt", "x/../../pwned.txt"])
def test_traversal_names_never_reach_the_file_system(world: World, name: str) -> None:
    target = Target(world, "attachment")
    response = target.upload(name, b"harmless text", "text/plain")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "pwned.txt"
    (stored,) = target.stored()
    # The stored path is generated (folder/yyyy/mm/uuid.ext) and stays inside the media root.
    assert "pwned" not in stored.file.name
    root = Path(settings.MEDIA_ROOT).resolve()
    assert Path(default_storage.path(stored.file.name)).resolve().is_relative_to(root)
    served = target.fetch(response.json()["url"])
    assert "pwned.txt" in served["Content-Disposition"] and "/" not in served["Content-Disposition"].split(";")[1]


def test_chinese_names_survive_to_the_download_header(world: World) -> None:
    target = Target(world, "attachment")
    response = target.upload("二〇二六年 报价单.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    assert response.status_code == 201, response.content
    served = target.fetch(response.json()["url"])
    disposition = served["Content-Disposition"]
    # RFC 5987 ``filename*`` carries the UTF-8 name; the header itself stays ASCII.
    assert "filename*=utf-8''" in disposition.lower()
    assert "%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf" in disposition
    disposition.encode("ascii")


def test_the_size_limit_is_enforced_for_both_endpoints(target: Target, settings: Any) -> None:
    settings.HUB_UPLOAD_MAX_BYTES = 4096
    response = target.upload("big.png", png((600, 600)) + b"\x00" * 8192, "image/png")
    assert response.status_code == 413 and _code(response) == "file_too_large"
    assert target.stored() == []
