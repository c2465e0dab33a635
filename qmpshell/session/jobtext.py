"""How jobs read: a progress bar fitted to a width, the ``/jobs`` table, sizes, rates and
times for people — pure, and the one home of these words for the toolbar, ``/jobs`` and
``/job wait``'s bar alike. The text is not escaped here (ids and errors come from QEMU):
whoever puts it on the terminal does.
"""

from __future__ import annotations

from .jobs import Job

BAR_MAX = 30  # the widest a bar gets, in cells
BAR_MIN = 6  # narrower than this, no bar: the percentage says it
ID_MAX = 24  # a job id longer than this is cut in the middle


def size(count: int | float) -> str:
    """``512 B``, ``64.0 MiB``, ``1.5 GiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def rate(per_second: float | None) -> str:
    return "" if per_second is None else f"{size(per_second)}/s"


def duration(seconds: float | None) -> str:
    """``4s``, ``2m05s``, ``1h02m``; empty when unknown."""
    if seconds is None:
        return ""
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def bar(percent: float | None, width: int) -> str:
    """``[#####.....]`` ``width`` cells wide, brackets included."""
    inner = max(width - 2, 1)
    if percent is None:
        return "[" + "?".center(inner, ".") + "]"
    filled = int(inner * percent / 100 + 1e-9)
    return "[" + "#" * filled + "." * (inner - filled) + "]"


def cut(text: str, width: int) -> str:
    """``text`` in ``width`` characters at most, cut in the middle."""
    if len(text) <= width:
        return text
    if width < 3:
        return text[:width]
    half = (width - 1) // 2
    return text[:half] + "…" + text[len(text) - (width - 1 - half) :]


def progress_line(job: Job, width: int) -> str:
    """One job in ``width`` columns: ``b0 backup [####....] 42% 64.0 MiB/s 3s left
    running``. As room runs out the bar narrows, then goes, then the time left, the
    rate and the type; the id, percentage and state stay longest."""
    percent = job.percent
    shown = "" if percent is None else f"{percent:.0f}%"
    left = duration(job.time_left)
    parts = {
        "id": cut(job.id, ID_MAX),
        "type": job.type if job.type != job.id else "",
        "percent": shown,
        "rate": rate(job.rate) if job.running else "",
        "left": f"{left} left" if left else "",
        "state": job.state,
    }
    order = ["id", "type", "percent", "rate", "left", "state"]
    drops: list[set[str]] = [set(), {"left"}, {"left", "rate"}, {"left", "rate", "type"}]
    for drop in drops:  # with a bar, after the type
        words = [parts[name] for name in order if name not in drop and parts[name]]
        room = min(width - len(" ".join(words)) - 1, BAR_MAX)
        if room >= BAR_MIN:
            words.insert(2 if parts["type"] and "type" not in drop else 1, bar(percent, room))
            return " ".join(words)
    for drop in drops:  # without
        line = " ".join(parts[name] for name in order if name not in drop and parts[name])
        if len(line) <= width:
            return line
    return cut(line, width)


def table(jobs: list[Job]) -> str:
    """``/jobs``: one row per job, running ones first: id, type, state, progress, rate,
    and how it ended or its error."""
    if not jobs:
        return "no jobs or migration seen in this session"
    head = ("ID", "TYPE", "STATE", "PROGRESS", "RATE", "ERROR")
    rows = [head]
    for job in jobs:
        percent = job.percent
        progress = "" if percent is None else f"{percent:.0f}%"
        if job.remaining is not None and job.current is not None:  # a migration
            progress += f" ({size(job.current)} sent)"
        elif job.total is not None and job.current is not None:
            progress += f" ({size(job.current)} of {size(job.total)})"
        state = job.state if job.running else (job.outcome or job.state)
        rows.append(
            (
                job.id,
                job.type,
                state,
                progress.strip(),
                rate(job.rate) if job.running else "",
                job.error or job.io_error or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )
