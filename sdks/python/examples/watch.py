"""Follows one environment of a Pennon server and prints what the client sees, one JSON
line per event: ``ready``, then ``change`` (with core's changed keys and the watched
flag's new value), ``error`` and ``stale``. The end-to-end test (tests/e2e) runs it next
to the Rust and Node versions and checks that all three see a change within 1 s::

    PENNON_URL=http://127.0.0.1:7070 PENNON_SDK_KEY=… python sdks/python/examples/watch.py checkout.new-flow
"""

import json
import os
import sys
import threading
from typing import Any

import pennon


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: watch.py FLAG")
    flag = sys.argv[1]
    anyone: pennon.Context = {"targetingKey": "e2e"}
    lock = threading.Lock()

    def emit(**line: Any) -> None:
        with lock:
            print(json.dumps({"sdk": "python", **line}), flush=True)

    with pennon.Client(url=os.environ["PENNON_URL"], sdk_key=os.environ["PENNON_SDK_KEY"]) as client:
        client.on(
            "change",
            lambda event: emit(
                event="change",
                revision=event.revision,
                flags=event.flags,
                value=client.evaluate(flag, anyone)["value"],
            ),
        )
        client.on("error", lambda event: emit(event="error", code=event.code, message=event.message))
        client.on("stale", lambda event: emit(event="stale", revision=event.revision))
        client.ready()
        emit(event="ready", revision=client.revision, value=client.evaluate(flag, anyone)["value"])
        threading.Event().wait()  # until the process is stopped


if __name__ == "__main__":
    main()
