"""Uploads from a browser: session cookie + X-CSRFToken header, multipart body. Django's CSRF
check used to parse the multipart body before the upload view installed its size limit, so
every browser upload answered 500 (upload handlers cannot change once the body is read)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image

from tests.conftest import World
from tests.messaging.helpers_http import create_conversation


def _browser(world: World) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member.user)
    client.get("/")  # the app page sets the csrftoken cookie (ensure_csrf_cookie)
    return client, client.cookies["csrftoken"].value


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (500, 300), (30, 120, 60)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "浏览器上传", member_ids=[world.member.user.pk])


def test_a_browser_upload_with_the_csrf_header_is_stored(world: World, conv: int) -> None:
    client, token = _browser(world)
    upload = SimpleUploadedFile("茶园照片.png", _png(), content_type="image/png")
    res = client.post(f"/api/v1/conversations/{conv}/attachments", {"file": upload}, HTTP_X_CSRFTOKEN=token)
    assert res.status_code == 201, res.content
    assert res.json()["name"] == "茶园照片.png" and res.json()["thumbnail_url"]


def test_a_browser_upload_without_the_csrf_header_is_refused(world: World, conv: int) -> None:
    client, token = _browser(world)
    upload = SimpleUploadedFile("a.png", _png(), content_type="image/png")
    # A token in the form body is not accepted: the API reads the header only.
    res = client.post(f"/api/v1/conversations/{conv}/attachments", {"file": upload, "csrfmiddlewaretoken": token})
    assert res.status_code == 403 and res.json()["error"]["code"] == "csrf_failed"


@override_settings(HUB_UPLOAD_MAX_BYTES=1000)
def test_a_browser_upload_over_the_limit_gets_the_json_413(world: World, conv: int) -> None:
    client, token = _browser(world)
    upload = SimpleUploadedFile("备份.txt", b"x" * 5000, content_type="text/plain")
    res = client.post(f"/api/v1/conversations/{conv}/attachments", {"file": upload}, HTTP_X_CSRFTOKEN=token)
    assert res.status_code == 413 and res.json()["error"]["code"] == "file_too_large"
