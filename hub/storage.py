"""The local file storage (``MEDIA_ROOT``), with one fix over Django's: a write that fails
half-way because the disk is full leaves no partial file behind."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from typing import Any

from django.core.files.storage import FileSystemStorage

# "No space left on device" and "disk quota exceeded": the filesystem, not the request, is at fault.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


class FileStorage(FileSystemStorage):
    # Whether the current thread's _save had to pick another name (sync code: one save at a time
    # per thread, so a thread-local flag is exact).
    _local = threading.local()

    def _save(self, name: str, content: Any) -> str:
        self._local.renamed = False
        try:
            return str(super()._save(name, content))  # type: ignore[misc]  # not in django-stubs
        except OSError as exc:
            # Django creates the file with O_EXCL and writes it chunk by chunk; on ENOSPC the
            # truncated file stays and keeps what space it took. The file at `name` is ours
            # unless Django found it taken and wrote under another name (``renamed``): then
            # leave it alone rather than delete someone else's file.
            if is_disk_full(exc) and not self._local.renamed:
                with contextlib.suppress(OSError):
                    os.remove(self.path(name))
            raise

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Called by save() before _save (the flag is reset there), and inside _save only when
        # the name was taken in between.
        self._local.renamed = True
        return str(super().get_available_name(name, max_length))
