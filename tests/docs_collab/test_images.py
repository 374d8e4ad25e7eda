"""Images in documents: uploaded like attachments (editors only, raster images only, size and
quota limits), served only to people who may read the document, with safe headers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from docs_collab.models import DocImage, Document
from docs_collab.queries import image_bytes
from tests.conftest import Persona, World
from tests.docs_collab.conftest import make_document

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _upload(world: World, persona: Persona, document: Document, name: str, content: bytes) -> Any:
    f = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return world.api(persona).client.post(f"/api/v1/documents/{document.pk}/images", {"file": f}, **persona.auth)


def _get(world: World, persona: Persona, path: str) -> Any:
    return world.api(persona).client.get(path, **persona.auth)


def test_an_editor_uploads_an_image_and_readers_see_it(world: World) -> None:
    document = make_document(world)
    response = _upload(world, world.member, document, "样品照片.png", _png())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == f"/api/v1/documents/{document.pk}/images/{body['id']}"
    assert (body["width"], body["height"]) == (320, 200)
    served = _get(world, world.member2, body["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert image_bytes(world.workspace.pk) == len(_png())
    # Not readable: 404, as for the document itself.
    assert _get(world, world.outsider, body["url"]).status_code == 404
    assert _get(world, world.guest, body["url"]).status_code == 404
    # An image id of another document does not resolve through this one.
    other = make_document(world, title="另一个")
    assert _get(world, world.member, f"/api/v1/documents/{other.pk}/images/{body['id']}").status_code == 404


def test_only_raster_images_from_editors(world: World) -> None:
    document = make_document(world, default_access="view")
    assert _upload(world, world.member, document, "a.png", _png()).status_code == 403  # a viewer
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, content in (("x.svg", svg), ("x.html", b"<script>alert(1)</script>"), ("x.pdf", b"%PDF-1.4\n")):
        response = _upload(world, world.owner, document, name, content)
        assert response.status_code == 415, (name, response.content)
    fake = _upload(world, world.owner, document, "fake.png", b"not an image at all")
    assert fake.status_code == 415
    assert _upload(world, world.owner, document, "empty.png", b"").status_code == 400
    with override_settings(HUB_UPLOAD_MAX_BYTES=100):
        assert _upload(world, world.owner, document, "big.png", _png()).status_code == 413
    no_file = world.api(world.owner).client.post(f"/api/v1/documents/{document.pk}/images", {}, **world.owner.auth)
    assert no_file.status_code == 422
    assert not DocImage.objects.exists()
