"""Guest agent mode: the output of guest-exec decoded, escaped and bounded (no agent)."""

from __future__ import annotations

import base64


def test_exec_output_decoded_escaped_and_bounded() -> None:
    from qmpshell.protocol.agent import exec_output

    out = base64.b64encode(b"hello\x1b[2J\tthere\n").decode()
    err = base64.b64encode(b"x" * 10 + b"\xff").decode()
    reply = {"return": {"exited": True, "out-data": out, "err-data": err}}
    assert exec_output(reply) == (
        "out-data (decoded):\nhello\\x1b[2J\tthere\nerr-data (decoded):\nxxxxxxxxxx\ufffd"
    )
    cut = exec_output({"return": {"out-data": out, "out-truncated": True}}, limit=5)
    assert cut == "out-data (decoded):\nhello\n(11 more bytes not shown; qemu-ga cut it short)"
    assert exec_output({"return": {"out-data": "not base64!"}}) == "out-data: not valid base64"
    assert exec_output({"return": {"exited": False}}) == ""
    assert exec_output({"error": {"class": "GenericError"}}) == ""
