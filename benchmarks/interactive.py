"""The interactive shell in a pty: figure 6 (peak RSS after 100,000 events at the prompt),
figure 7 (a 200 KB reply rendered coloured) and completion (in-process and after Tab)."""

from __future__ import annotations

import threading
import time
from typing import Any

import peers
from measure import QMPSHELL, Spawner, median, percentile
from qemu import qemu
from report import Figure, at_most, under
from terminal import Terminal

PROMPT = rb"\(QEMU\)"


def ready(term: Terminal) -> int:
    """Wait for the prompt, run ``query-name`` (which waits for the schema) and wait for
    the next prompt; the offset after it."""
    at = term.wait_for(PROMPT)
    term.send(b"query-name\r")
    at = term.wait_for(rb"OK", at)
    return term.wait_for(PROMPT, at)


def events_at_prompt(
    spawner: Spawner, runs: int, count: int, env: dict[str, str]
) -> tuple[list[Figure], list[Figure]]:
    """``count`` events sent unasked while qmpshell waits at its prompt, then a command
    typed and its reply awaited: the peak RSS, and how long showing it all took."""
    events = peers.event_lines(count)
    peaks: list[float] = []
    seconds: list[float] = []
    failed = ""
    with qemu() as vm, peers.peer(vm.aux) as peer:
        for _ in range(runs):
            term = Terminal(spawner, [QMPSHELL, peer.path], env)
            try:
                at = ready(term)
                started = time.perf_counter()
                flood = threading.Thread(target=peer.flood, args=(events,), daemon=True)
                flood.start()
                flood.join(timeout=600)
                term.send(b"query-version\r")
                at = term.wait_for(rb"micro", at, timeout=600)
                seconds.append(time.perf_counter() - started)
                term.wait_for(PROMPT, at, timeout=60)
                running = term.hwm_kib()
                peak = term.quit()
                if term.status != 0:
                    failed = failed or f"exit {term.status}"
                    peak = max(peak, running)
                peaks.append(peak / 1024)
            except TimeoutError as error:
                failed = failed or str(error)
                peaks.append(term.hwm_kib() / 1024)
            finally:
                term.close()
    what = f"interactive, after {count:,} events at the prompt"
    shown = [Figure(what, "s until a command's reply is shown", median(seconds))] if seconds else []
    return [
        Figure(what, "peak RSS MiB", median(peaks), target=at_most(80, "MiB"), failed=failed)
    ], shown


def schema_render(
    spawner: Spawner, runs: int, prefixes: int, env: dict[str, str]
) -> tuple[list[Figure], list[Figure]]:
    """The 200 KB ``query-qmp-schema`` reply rendered coloured into a pty (figure 7); the
    completion menu after Tab, get_completions' latency, the session's peak RSS."""
    render: list[float] = []
    menu: list[float] = []
    rss: list[float] = []
    with qemu() as vm:
        for _ in range(runs):
            # A 50-row terminal; --no-pager so that the whole reply is written to it, and
            # menus on Tab only, so that Tab is what makes the menu appear.
            argv = [QMPSHELL, "--color", "always", "--no-pager", "--no-complete-while-typing"]
            term = Terminal(spawner, [*argv, vm.qmp], env, rows=50)
            try:
                at = ready(term)
                time.sleep(0.2)
                term.send(b"query-qmp-schema")
                at = term.wait_for(rb"schema", at)
                time.sleep(0.2)
                start = term.size()
                sent = term.send(b"\r")
                end = term.wait_for(PROMPT, start + 1000)
                # The last byte of the reply: the one before the next prompt.
                render.append(term.time_of(end - 7) - sent)
                time.sleep(0.2)
                term.send(b"blockdev-add driver=qc")
                time.sleep(0.3)
                start = term.size()
                tab = term.send(b"\t")
                found = term.wait_for(rb"qcow2", start)
                menu.append(term.time_of(found) - tab)
                time.sleep(0.2)
                term.send(b"\x03")  # Ctrl-C: drop the line, so that Ctrl-D quits
                time.sleep(0.2)
                rss.append(term.quit() / 1024)
            finally:
                term.close()
        latencies = completion_latencies(vm.qmp, prefixes)
    return [
        Figure("200 KB reply (`query-qmp-schema`), coloured, into a pty",
               "ms Enter → last byte", median(render) * 1e3, target=under(100, "ms")),
    ], [
        Figure("completion: get_completions", f"p50 ms ({len(latencies)} prefixes)",
               percentile(latencies, 50) * 1e3),
        Figure("completion: get_completions", "p99 ms", percentile(latencies, 99) * 1e3,
               target=under(5, "ms")),
        Figure("completion: menu after Tab, in a pty", "ms", median(menu) * 1e3),
        Figure("interactive session, schema loaded and shown", "peak RSS MiB", median(rss),
               target=under(60, "MiB")),
    ]  # fmt: skip


def completion_latencies(path: str, count: int) -> list[float]:
    """get_completions over command names, argument names and enum values (in-process,
    with the installed qmpshell)."""
    import asyncio

    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from qmpshell.protocol import QMPClient, parse_address
    from qmpshell.session.introspection import load_schema
    from qmpshell.ui.completer import ShellCompleter

    async def schema_of() -> Any:
        async with QMPClient() as client:
            await client.connect(parse_address(path))
            return await load_schema(client)

    schema = asyncio.run(schema_of())
    completer = ShellCompleter(lambda: schema, lambda: False, ["/help"])
    lines: list[str] = []
    names = sorted(schema.commands)
    for name in names:
        lines += [name[:3], name[: len(name) // 2], f"{name} "]
    for value in ("", "q", "r", "nu", "fi", "th"):
        lines.append(f"blockdev-add driver={value}")
        lines.append(f"blockdev-add driver=file node-name=n {value}")
        lines.append(f"blockdev-add driver=raw file.{value}")
    lines = (lines * (count // len(lines) + 1))[:count]
    event = CompleteEvent(completion_requested=True)
    latencies = []
    for line in lines:
        started = time.perf_counter()
        list(completer.get_completions(Document(line), event))
        latencies.append(time.perf_counter() - started)
    return latencies
