"""Uploaded files: type allow-list, content sniffing, generated storage names, thumbnails and
safe response headers. Pure file handling; the database write is ``actions.attachments``."""

from __future__ import annotations

import io
import posixpath
import uuid
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.errors import HubError

# Extension → the content type we serve. Anything else is refused: no HTML, SVG, scripts or
# executables, which a browser could be talked into running on our origin.
ALLOWED_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".zip": "application/zip",
}
# What Pillow recognises → the content type; only these count as images.
IMAGE_FORMATS = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}
# Raster images are the only thing shown inline: they cannot carry script.
SAFE_INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "application/zip": _ZIP,
    ALLOWED_TYPES[".docx"]: _ZIP,
    ALLOWED_TYPES[".xlsx"]: _ZIP,
    ALLOWED_TYPES[".pptx"]: _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
}
MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is a small file that becomes gigabytes
THUMBNAIL_SIZE = (400, 400)
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class SizeLimitHandler(FileUploadHandler):
    """First in the upload handler chain: refuses an oversized upload from its Content-Length
    or, when that lies, as soon as the streamed bytes pass the limit — before the whole body
    lands in a temporary file (a 10 GB upload must not fill the disk to be told "too big")."""

    MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length > self.limit + self.MULTIPART_OVERHEAD:
            raise _too_large(self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            raise _too_large(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large(limit: int) -> HubError:
    return HubError("file_too_large", f"files are limited to {limit} bytes", status=413)


@dataclass(frozen=True)
class Inspected:
    display_name: str
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type in SAFE_INLINE_TYPES


# Bidirectional-text controls: U+202E (right-to-left override) makes "报价\u202egnp.exe" show
# as "报价exe.png", so a name could lie about its type to the person about to open it.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_display_name(name: str) -> str:
    """Keep the person's file name (Chinese included) for display; drop paths and controls."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f" and ch not in _BIDI_CONTROLS)
    name = name.strip().lstrip(".")
    if not name:
        raise HubError("invalid_file_name", "the file needs a name")
    if len(name) > 255:
        stem, ext = posixpath.splitext(name)
        name = stem[: 255 - len(ext)] + ext
    return name


def inspect_upload(upload: UploadedFile) -> Inspected:
    """Decide the type by extension allow-list *and* content: an image must decode with
    Pillow; PDFs and Office files must start with their magic bytes; text must decode."""
    name = clean_display_name(upload.name or "")
    extension = posixpath.splitext(name)[1].lower()
    claimed = ALLOWED_TYPES.get(extension)
    if claimed is None:
        raise HubError("unsupported_type", f"files of type {extension or '(none)'} are not allowed", status=415)
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    image = _sniff_image(upload)
    if image is not None:
        content_type, ext = IMAGE_FORMATS[image[0]]
        return Inspected(name, content_type, ext, image[1], image[2])
    if claimed in SAFE_INLINE_TYPES:
        raise HubError("invalid_image", "the file is not a valid image", status=415)
    magic = MAGIC.get(claimed)
    if magic is not None and not head.startswith(magic):
        raise HubError("type_mismatch", f"the content is not a {extension} file", status=415)
    if claimed.startswith("text/"):
        _check_text(head)
    return Inspected(name, claimed, extension)


def _sniff_image(upload: UploadedFile) -> tuple[str, int, int] | None:
    try:
        with Image.open(upload) as img:
            fmt, (width, height) = img.format, img.size
            if fmt not in IMAGE_FORMATS:
                return None
            if width * height > MAX_IMAGE_PIXELS:
                raise HubError("image_too_large", "the image has too many pixels", status=413)
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return fmt, width, height


def _check_text(head: bytes) -> None:
    if b"\x00" in head:
        raise HubError("type_mismatch", "a text file must not contain NUL bytes", status=415)
    for encoding in ("utf-8", "gb18030"):
        try:
            # The 8 KiB cut may split a multi-byte character: allow 3 trailing bytes.
            head[: len(head) - 3 if len(head) == 8192 else len(head)].decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise HubError("type_mismatch", "a text file must be UTF-8 or GB18030", status=415)


def storage_name(folder: str, extension: str) -> str:
    """A generated name: the stored path never contains anything the uploader chose."""
    now = timezone.now()
    return f"{folder}/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"


def save_upload(upload: UploadedFile, inspected: Inspected) -> str:
    upload.seek(0)
    return default_storage.save(storage_name("attachments", inspected.extension), upload)


def make_thumbnail(upload: IO[bytes]) -> tuple[str, int, int] | None:
    """A ≤400 px thumbnail saved under a generated name (JPEG for photos, PNG keeps alpha)."""
    upload.seek(0)
    try:
        with Image.open(upload) as img:
            img.seek(0)  # first frame of an animation
            thumb = ImageOps.exif_transpose(img) or img
            thumb = thumb.copy()
        thumb.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        if thumb.mode in ("RGB", "L"):
            thumb.save(out, "JPEG", quality=82)
            ext = ".jpg"
        else:
            thumb.convert("RGBA").save(out, "PNG", optimize=True)
            ext = ".png"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    name = default_storage.save(storage_name("thumbnails", ext), ContentFile(out.getvalue()))
    return name, thumb.width, thumb.height


def delete_stored(*names: str) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def file_response(stored_name: str, content_type: str, display_name: str) -> FileResponse:
    """Serve a stored file safely: raster images inline, everything else as a download;
    ``filename*`` (RFC 5987, done by Django) keeps Chinese names; nosniff and a CSP that
    forbids script even if a browser renders the bytes."""
    inline = content_type in SAFE_INLINE_TYPES
    response = FileResponse(
        default_storage.open(stored_name, "rb"),
        as_attachment=not inline,
        filename=display_name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = CSP
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
