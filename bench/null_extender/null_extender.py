"""A null scheduler extender on Augur's own server stack: uvicorn with the flags ``augur extender run``
uses, a raw ASGI app, orjson. ``filter`` passes every node it is sent, ``prioritize`` scores every node 0;
it parses each request body and renders each reply, as any extender must, and nothing else.

    python bench/null_extender/null_extender.py --port 8888

Measures the floor of a Python extender on uvicorn (bench/scheduler_throughput.py --null-extenders); the
Go program beside it measures the floor of the protocol itself. Not part of Augur.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn

_JSON = [(b"content-type", b"application/json")]


def reply(path: str, body: bytes) -> tuple[int, bytes]:
    if path == "/readyz":
        return 200, b"ok"
    if path not in ("/filter", "/prioritize"):
        return 404, b"{}"
    try:
        names = orjson.loads(body).get("NodeNames") or []
    except (orjson.JSONDecodeError, AttributeError) as exc:
        return 400, orjson.dumps({"detail": str(exc)})
    if path == "/filter":
        return 200, orjson.dumps({"NodeNames": names, "FailedNodes": {}, "Error": ""})
    return 200, orjson.dumps([{"Host": n, "Score": 0} for n in names])


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    status, payload = reply(scope["path"], b"".join(chunks))
    headers = [*_JSON, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, proxy_headers=False)


if __name__ == "__main__":
    main()
