"""qmpshell: an interactive shell for QEMU's QMP and HMP monitors.

The package is in layers (docs/architecture.md): :mod:`qmpshell.protocol`, the QMP client,
usable on its own as an asyncio library (docs/library.md); :mod:`qmpshell.language`, the
shorthand and the schema; :mod:`qmpshell.session`; :mod:`qmpshell.ui`; :mod:`qmpshell.modes`;
:mod:`qmpshell.cli.main.main`. Importing the package itself loads none of them.
"""
