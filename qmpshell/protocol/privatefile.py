"""Opening the files qmpshell keeps for the user (history, transcript) safely.

A path that is a symbolic link is not followed, whatever it points to; a file another user
owns is refused; a file of ours with a looser mode is tightened to 0600 on the opened
descriptor (not by path, so nothing swapped in between is changed). Only regular files are
used: ``-l /dev/null`` would otherwise have its mode changed by a root shell.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """A descriptor on the regular file ``path``, opened with ``flags`` (``O_CREAT``
    creates it 0600), owned by this user and with mode 0600. :class:`OSError` whose
    ``strerror`` says what is wrong, in words a user can act on."""
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        # O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader.
        fd = os.open(path, flags | nofollow | os.O_CLOEXEC | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            raise exc from None
        if stat.S_ISLNK(mode):
            raise OSError(exc.errno, "it is a symbolic link, which is not followed") from None
        if exc.errno == errno.ENXIO and not stat.S_ISREG(mode):  # a FIFO with no reader
            raise OSError(exc.errno, "it is not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        if info.st_uid != os.geteuid():
            raise OSError(errno.EPERM, f"it is owned by another user (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_whole(fd: int, data: bytes | bytearray) -> None:
    """Append ``data`` (one line) to ``fd`` whole or not at all: when the disk fills
    part-way, what was written of it is cut off again before the error is raised."""
    written = 0
    try:
        with memoryview(data) as view:
            while written < len(data):
                written += os.write(fd, view[written:])
    except OSError:
        if written:
            # O_APPEND: the partial line is the file's last ``written`` bytes.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, os.fstat(fd).st_size - written)
        raise


def private_directory(path: str | os.PathLike[str]) -> None:
    """Make sure the directory ``path`` (created 0700 with its parents if missing) is a
    real directory, not a symbolic link, owned by this user and with mode 0700 (a looser
    one is tightened on the opened descriptor). :class:`OSError` otherwise, whose
    ``strerror`` says what is wrong."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | nofollow | os.O_CLOEXEC)
    except OSError as exc:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise OSError(exc.errno, "it is a symbolic link, which is not followed") from None
        raise
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise OSError(errno.EPERM, f"it is owned by another user (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
