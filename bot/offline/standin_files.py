"""The Slack stand-in's file uploads, as `files_upload_v2` makes them: files.getUploadURLExternal
hands out an upload URL, the file's bytes are POSTed there (kept in a temporary file, so
a large export is never held in memory here either), and files.completeUploadExternal
shares it in a channel or DM (a part of SlackStandIn)."""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

CHUNK = 64 * 1024


@dataclass
class Upload:
    file_id: str
    name: str
    length: int  # as announced to files.getUploadURLExternal
    path: Path | None = None  # the bytes received
    channel: str = ""  # where it was shared
    title: str = ""
    comment: str = ""
    alt_text: str = ""  # an image's description for screen readers (alt_txt)
    thread_ts: str = ""

    def data(self) -> bytes:
        assert self.path is not None, "nothing was uploaded"
        return self.path.read_bytes()

    def text(self) -> str:
        assert self.path is not None, "nothing was uploaded"
        return self.path.read_text(encoding="utf-8-sig")


class FileUploads:
    base_url: str
    _ids: itertools.count[int]
    _cond: threading.Condition
    uploads: dict[str, Upload]
    _upload_dir: tempfile.TemporaryDirectory[str] | None

    def shared_files(self) -> list[Upload]:
        """The files shared so far, in order."""
        with self._cond:
            return [u for u in self.uploads.values() if u.channel]

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        name, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not name or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        with self._cond:
            self.uploads[file_id] = Upload(
                file_id, name, int(length), alt_text=str(args.get("alt_txt") or "")
            )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        file_id = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
        with self._cond:
            upload = self.uploads.get(file_id)
            if self._upload_dir is None:
                self._upload_dir = tempfile.TemporaryDirectory(prefix="standin-uploads-")
            folder = Path(self._upload_dir.name)
        if upload is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"unknown upload"]
        left, path = int(environ.get("CONTENT_LENGTH") or 0), folder / file_id
        stream = environ["wsgi.input"]
        with path.open("wb") as out:
            while left > 0:
                chunk = stream.read(min(CHUNK, left))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)
        if path.stat().st_size != upload.length:  # Slack refuses a length it was not told
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"length mismatch"]
        upload.path = path
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK - " + str(upload.length).encode()]

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        with self._cond:
            for item in files:
                upload = self.uploads.get(str(item.get("id")))
                if upload is None or upload.path is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.channel = str(args.get("channel_id") or "")
                upload.title = str(item.get("title") or upload.name)
                upload.comment = str(args.get("initial_comment") or "")
                upload.thread_ts = str(args.get("thread_ts") or "")
                done.append({"id": upload.file_id, "name": upload.name, "title": upload.title})
        return {"ok": True, "files": done}
