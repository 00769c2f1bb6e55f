"""An incremental server-sent-events parser (the WHATWG rules the Pennon stream needs).

Chunks go in as they arrive, whole events and comments come out. Lines end with LF, CRLF
or CR (also when a CRLF is split across two chunks); ``:`` starts a comment; several
``data`` lines join with ``\\n``; an event is delivered only at its terminating blank line,
so an event cut mid-way by a dropped connection is never delivered. Bytes go through an
incremental UTF-8 decoder, so a character split across two chunks is decoded whole.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import List, Optional, Union


@dataclass(frozen=True)
class SseEvent:
    event: str
    id: Optional[str]
    data: str


@dataclass(frozen=True)
class SseComment:
    text: str


SseItem = Union[SseEvent, SseComment]


class SseParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""
        # The previous chunk ended with CR: a LF starting the next one belongs to it.
        self._after_cr = False
        self._event: Optional[str] = None
        self._data: Optional[str] = None
        self.last_id: Optional[str] = None
        """The last event ID seen (kept across events, as SSE specifies)."""

    def feed(self, chunk: Union[bytes, str]) -> List[SseItem]:
        """Feeds a chunk; returns the items it completed."""
        text = chunk if isinstance(chunk, str) else self._decoder.decode(chunk)
        out: List[SseItem] = []
        if self._after_cr:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]
        start = 0
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c != "\n" and c != "\r":
                i += 1
                continue
            line = self._line + text[start:i]
            self._line = ""
            self._process(line, out)
            if c == "\r":
                if i + 1 < n:
                    if text[i + 1] == "\n":
                        i += 1
                else:
                    self._after_cr = True
            i += 1
            start = i
        self._line += text[start:]
        return out

    def _process(self, line: str, out: List[SseItem]) -> None:
        if line == "":
            event = self._event
            self._event = None
            if self._data is not None:
                out.append(SseEvent(event or "message", self.last_id, self._data))
                self._data = None
            return
        if line.startswith(":"):
            comment = line[1:]
            out.append(SseComment(comment[1:] if comment.startswith(" ") else comment))
            return
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data = value if self._data is None else f"{self._data}\n{value}"
        elif field == "id" and "\0" not in value:
            self.last_id = value
