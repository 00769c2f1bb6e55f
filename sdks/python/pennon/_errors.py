"""The client's error: a stable ``code`` and a message for people."""


class ClientError(Exception):
    """An error of the client.

    ``code`` is one of the codes every Pennon SDK reports (docs/sdk.md; the Rust SDK's
    ``pennon::Error``): ``invalid_config``, ``invalid_public_key``, ``invalid_argument``,
    ``init_timeout``, ``closed``, ``signature_invalid``, ``revision_older``,
    ``unauthorized``, ``forbidden``, ``server_error``, ``http_error``, ``network_error``,
    ``timeout``, ``stream_silent``, ``invalid_event``, ``io_error``, ``hook_failed``,
    ``internal``, and core's load codes (``invalid_json``, ``invalid_snapshot``...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"

    def __repr__(self) -> str:
        return f"ClientError({self.code!r}, {self.message!r})"
