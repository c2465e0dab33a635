"""100,000 events at the interactive prompt, in a pty: every one is printed above the
prompt, the half-typed line survives them, and ``/events`` then lists the newest the
log kept (bounded by bytes) and says how many came. How much memory this takes is the
benchmark's to measure: nothing here asserts a size or a time.

The peer is a fake one (``tests/fakepeer.py``): it floods on demand, as fast as a socket
takes it, which a real QEMU does not.
"""

from __future__ import annotations

import socket

from fakepeer import encode, fake_peer, handshake, recv_json, reply
from pty_shell import PROMPT, echoed, quit_at_prompt, spawn

FLOOD = 100_000


def _flooding(conn: socket.socket) -> None:
    """Answers every command; ``flood`` is answered, then followed by the events."""
    handshake(conn)
    while True:
        request = recv_json(conn)
        name = request.get("execute")
        if name == "query-commands":  # no query-qmp-schema: lines go untyped
            reply(conn, request, [{"name": "flood"}, {"name": "query-status"}])
        elif name == "query-status":
            reply(conn, request, {"status": "running", "running": True})
        else:
            reply(conn, request)
        if name == "flood":
            for start in range(0, FLOOD, 1000):
                conn.sendall(
                    b"".join(
                        encode({"event": "TICK", "data": {"n": n}, "timestamp": {"seconds": n}})
                        for n in range(start, start + 1000)
                    )
                )


def test_a_flood_at_the_prompt_is_shown_and_kept_within_the_bound(
    shell_env: dict[str, str],
) -> None:
    with fake_peer(_flooding) as path:
        child = spawn(shell_env, path)
        try:
            child.expect(PROMPT)
            child.send('{"execute": "flood"}\r')
            child.expect("OK")
            child.send("query-st")  # typed while the events come
            shown = 0
            while shown < FLOOD:
                child.expect(r"TICK \{\"n\": (\d+)\}", timeout=60)
                number = int(child.match.group(1))
                # All of them, in order, and nothing between: keys typed meanwhile were
                # once echoed into the events (the tty in cooked mode for each batch).
                assert number == shown, repr(child.before[-600:])
                shown += 1
            child.send("atus\r")  # the half-typed line survived the flood
            child.expect(echoed("query-status"))
            child.expect('"status": "running"')
            child.send("/events list 2\r")
            child.expect(r'TICK \{"n": 99998\}')
            child.expect(r'TICK \{"n": 99999\}')
            child.expect(rf"2 of {FLOOD} events; showing: all")
            quit_at_prompt(child)
        finally:
            child.close(force=True)
