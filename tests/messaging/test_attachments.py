"""Attachments: upload checks (size, allow-list, sniffing), thumbnails, attaching to a
message, and serving only to readers with safe headers."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from messaging.models import Attachment
from tests.conftest import Persona, World
from tests.messaging.helpers_http import create_conversation, error_code, send, shared_channel


def _png(size: tuple[int, int] = (800, 600), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (10, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _upload(world: World, persona: Persona | None, conv: int, name: str, content: bytes, ctype: str = "") -> Any:
    headers = persona.auth if persona else {}
    f = SimpleUploadedFile(name, content, content_type=ctype or "application/octet-stream")
    return world.api(persona).client.post(f"/api/v1/conversations/{conv}/attachments", {"file": f}, **headers)


def _get(world: World, persona: Persona | None, path: str) -> Any:
    headers = persona.auth if persona else {}
    return world.api(persona).client.get(path, **headers)


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(world, world.owner, "public", "相册", member_ids=[world.member.user.pk])


def test_image_upload_thumbnail_attach_and_serve(world: World, conv: int) -> None:
    res = _upload(world, world.member, conv, "产品照片.png", _png())
    assert res.status_code == 201, res.content
    att = res.json()
    assert att["name"] == "产品照片.png" and att["content_type"] == "image/png"
    assert (att["width"], att["height"]) == (800, 600) and att["thumbnail_url"]
    sent = send(world, world.member, conv, "新品", attachment_ids=[att["id"]])
    assert [a["id"] for a in sent["attachments"]] == [att["id"]]
    page = world.api(world.owner).get(f"/api/v1/conversations/{conv}/messages").json()["messages"]
    assert page[-1]["attachments"][0]["name"] == "产品照片.png"
    res = _get(world, world.owner, att["url"])
    assert res.status_code == 200
    assert res["Content-Type"] == "image/png"
    assert res["Content-Disposition"].startswith("inline")
    assert "filename*=utf-8''%E4%BA%A7%E5%93%81%E7%85%A7%E7%89%87.png" in res["Content-Disposition"]
    assert res["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in res["Content-Security-Policy"] and "sandbox" in res["Content-Security-Policy"]
    body = b"".join(res.streaming_content)
    assert body == _png()
    thumb = _get(world, world.owner, att["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["X-Content-Type-Options"] == "nosniff"
    img = Image.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert max(img.size) <= 400


def test_documents_download_as_attachment(world: World, conv: int) -> None:
    res = _upload(world, world.member, conv, "报价单 2026.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    assert res.status_code == 201, res.content
    att = res.json()
    assert att["thumbnail_url"] is None
    send(world, world.member, conv, "报价", attachment_ids=[att["id"]])
    res = _get(world, world.member, att["url"])
    assert res["Content-Type"] == "application/pdf"
    assert res["Content-Disposition"].startswith("attachment")
    txt = _upload(world, world.member, conv, "备注.txt", "库存：一百箱".encode("gb18030"))
    assert txt.status_code == 201 and txt.json()["content_type"] == "text/plain"
    jpg = _upload(world, world.member, conv, "photo.JPG", _jpeg())
    assert jpg.status_code == 201 and jpg.json()["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("page.html", b"<script>alert(1)</script>", "unsupported_type"),
        ("logo.svg", b"<svg onload=alert(1)></svg>", "unsupported_type"),
        ("setup.exe", b"MZ\x90\x00", "unsupported_type"),
        ("noext", b"hello", "unsupported_type"),
        ("fake.png", b"<html><script>alert(1)</script></html>", "invalid_image"),
        ("fake.pdf", b"<html>not a pdf</html>", "type_mismatch"),
        ("fake.docx", b"plain text pretending", "type_mismatch"),
        ("binary.txt", b"\x00\x01\x02\xff\xfe", "type_mismatch"),
    ],
)
def test_upload_refuses_bad_types(world: World, conv: int, name: str, content: bytes, code: str) -> None:
    res = _upload(world, world.member, conv, name, content)
    assert res.status_code == 415, res.content
    assert error_code(res) == code


def test_upload_size_limit_and_bad_input(world: World, conv: int) -> None:
    with override_settings(HUB_UPLOAD_MAX_BYTES=1000):
        res = _upload(world, world.member, conv, "big.png", _png((400, 400)) + b"\x00" * 2000)
        assert res.status_code == 413 and error_code(res) == "file_too_large"
        # Refused from the Content-Length, before the body is streamed to a temporary file.
        res = _upload(world, world.member, conv, "huge.pdf", b"%PDF-" + b"0" * 300_000)
        assert res.status_code == 413 and error_code(res) == "file_too_large"
    assert not Attachment.objects.exists()
    assert error_code(_upload(world, world.member, conv, "empty.txt", b"")) == "empty_file"
    headers = world.member.auth
    res = world.api(world.member).client.post(f"/api/v1/conversations/{conv}/attachments", {}, **headers)
    assert res.status_code == 422  # no file field
    res = world.api(world.member).post(f"/api/v1/conversations/{conv}/attachments", {"file": "x"})
    assert res.status_code == 422


def test_upload_and_download_strangers(world: World, conv: int) -> None:
    assert _upload(world, world.outsider, conv, "a.png", _png()).status_code == 404
    assert _upload(world, world.guest, conv, "a.png", _png()).status_code == 404
    assert _upload(world, None, conv, "a.png", _png()).status_code == 401
    assert _upload(world, world.member2, conv, "a.png", _png()).status_code == 403  # not joined
    att = _upload(world, world.member, conv, "a.png", _png()).json()
    # Not sent yet: only the uploader sees it.
    assert _get(world, world.owner, att["url"]).status_code == 404
    assert _get(world, world.member, att["url"]).status_code == 200
    send(world, world.member, conv, "图", attachment_ids=[att["id"]])
    assert _get(world, world.owner, att["url"]).status_code == 200
    assert _get(world, world.member2, att["url"]).status_code == 200  # public channel: readable
    assert _get(world, world.outsider, att["url"]).status_code == 404
    assert _get(world, world.guest, att["url"]).status_code == 404
    assert _get(world, None, att["url"]).status_code == 401
    assert _get(world, world.owner, "/api/v1/attachments/999999").status_code == 404


def test_guest_in_shared_channel_uploads_and_reads(world: World) -> None:
    conv = shared_channel(world)
    att = _upload(world, world.guest, conv, "订单.xlsx", b"PK\x03\x04" + b"\x00" * 100).json()
    send(world, world.guest, conv, "订单", attachment_ids=[att["id"]])
    assert _get(world, world.member, att["url"]).status_code == 200
    assert _get(world, world.supplier_guest, att["url"]).status_code == 404


def test_attach_only_own_unsent_files_of_this_conversation(world: World, conv: int) -> None:
    mine = _upload(world, world.member, conv, "a.png", _png()).json()
    theirs = _upload(world, world.owner, conv, "b.png", _png()).json()
    other_conv = create_conversation(world, world.member, "private", "别处")
    elsewhere = _upload(world, world.member, other_conv, "c.png", _png()).json()
    api = world.api(world.member)
    for bad in (theirs["id"], elsewhere["id"], 999999):
        res = api.post(
            f"/api/v1/conversations/{conv}/messages",
            {"body": "x", "client_id": str(uuid.uuid4()), "attachment_ids": [bad]},
        )
        assert res.status_code == 404, res.content
    sent = send(world, world.member, conv, "", attachment_ids=[mine["id"]])  # a file alone is a message
    assert sent["body"] == "" and len(sent["attachments"]) == 1
    res = api.post(
        f"/api/v1/conversations/{conv}/messages",
        {"body": "again", "client_id": str(uuid.uuid4()), "attachment_ids": [mine["id"]]},
    )
    assert res.status_code == 404  # already attached to a message
    res = api.post(
        f"/api/v1/conversations/{conv}/messages",
        {"body": "x", "client_id": str(uuid.uuid4()), "attachment_ids": list(range(11))},
    )
    assert res.status_code == 422


def test_deleted_message_hides_its_files(world: World, conv: int) -> None:
    att = _upload(world, world.member, conv, "a.png", _png()).json()
    msg = send(world, world.member, conv, "图", attachment_ids=[att["id"]])
    assert world.api(world.member).delete(f"/api/v1/messages/{msg['id']}").status_code == 200
    assert _get(world, world.member, att["url"]).status_code == 404
    assert _get(world, world.owner, att["thumbnail_url"]).status_code == 404
