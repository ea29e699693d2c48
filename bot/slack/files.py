"""Sharing a file in Slack the way `files_upload_v2` does, but streamed: the file's length
to files.getUploadURLExternal, its bytes POSTed to the URL that gives (read from the file a
chunk at a time, never whole), then files.completeUploadExternal into the channel or DM.
Used by the exports and the summary's chart (both Slack's glue, above this layer, call it:
a CSV of 300,000 customers or an image, the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import LoyaltyError
from bot.domain.say import Say

UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
CHUNK = 64 * 1024


def share_file(
    client: WebClient,
    channel: str,
    stream: BinaryIO,
    length: int,
    *,
    name: str,
    title: str,
    content_type: str,
    alt_text: str = "",
    thread_ts: str | None = None,
) -> str:
    """Upload `length` bytes of `stream` (from where it is) as `name` and share them in
    `channel`: the file's id."""
    try:
        upload = client.files_getUploadURLExternal(
            filename=name, length=length, alt_txt=alt_text or None
        )
    except SlackApiError as exc:
        if exc.response.get("error") == "missing_scope":  # installed before files were sent
            raise CannotSendFiles() from None
        raise
    response = httpx.post(
        str(upload["upload_url"]),
        content=_chunks(stream),
        headers={"Content-Type": content_type, "Content-Length": str(length)},
        timeout=UPLOAD_TIMEOUT,
    )
    response.raise_for_status()
    client.files_completeUploadExternal(
        files=[{"id": upload["file_id"], "title": title}], channel_id=channel, thread_ts=thread_ts
    )
    return str(upload["file_id"])


class CannotSendFiles(LoyaltyError):
    """The app was installed without the permission to send files (before exports)."""

    def __init__(self) -> None:
        super().__init__(
            Say(
                "I am not allowed to send files in this workspace yet. Ask whoever installed "
                "the app to install it again (from its settings page) so it may; nothing else "
                "changes."
            )
        )


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
