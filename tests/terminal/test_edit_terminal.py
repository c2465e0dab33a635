"""Journeys: a command written in the editor (/edit, Ctrl-X Ctrl-E) from a fresh HOME,
against a real QEMU. The editor is a small script set as $EDITOR: it records each file
it is given, then makes that round's edit (replacements, a text written in place of
what it was given, an emptied file, a failure)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from qmpshell.language.editdoc import is_empty

EDITOR = """\
import json, os, sys
path, log = sys.argv[-1], os.environ["EDIT_LOG"]
rounds = json.load(open(os.environ["EDIT_ROUNDS"]))
text = open(path).read()
done = open(log).read().count("\\n=====\\n") if os.path.exists(log) else 0
with open(log, "a") as f:
    f.write(text + "\\n=====\\n")
edit = rounds[done] if done < len(rounds) else []
if edit == "fail":
    sys.exit(1)
if edit == "empty":
    text = ""
if isinstance(edit, dict):  # {"write": TEXT}: whatever it was given
    text = edit["write"]
for old, new in edit if isinstance(edit, list) else ():
    assert old in text, old
    text = text.replace(old, new)
open(path, "w").write(text)
"""


def scripted_editor(tmp_path: Path, rounds: list[Any]) -> tuple[dict[str, str], Path]:
    """The environment that makes the script the editor, and the log of what it saw."""
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    (tmp_path / "rounds.json").write_text(json.dumps(rounds))
    log = tmp_path / "edits.log"
    env = {
        "EDITOR": f"{sys.executable} {script}",
        "EDIT_LOG": str(log),
        "EDIT_ROUNDS": str(tmp_path / "rounds.json"),
    }
    env.pop("VISUAL", None)
    return env, log


def seen(log: Path) -> list[str]:
    """Each document the editor was given, in order."""
    return log.read_text().split("\n=====\n")[:-1]


def test_edit_blockdev_add_qcow2_error_reopens_then_it_is_sent(
    newcomer: Any, tmp_path: Path
) -> None:
    image = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "16M"], check=True)
    env, log = scripted_editor(
        tmp_path,
        [
            [['"node-name": "<str>"', '"node-name": "disk0"']],
            [
                ['"<object or str>"', json.dumps({"driver": "file", "filename": str(image)})],
                ['// "read-only": "<bool>",', '"read-only": true,'],
            ],
        ],
    )
    screen = newcomer(extra_env={**env, "VISUAL": ""})
    screen.type("/edit blockdev-ad", "Tab")  # the LINE is completed as a line
    screen.wait_for(r"(?m)\(QEMU\) /edit blockdev-add\s*$")  # (tmux trims a space)
    screen.type(" driver=qcow2", "Enter")
    text = screen.wait_for(r"(?s)/edit blockdev-add +driver=qcow2\n.*\nOK\s*\n\(QEMU\)")
    assert "Traceback" not in text and "qmpshell:" not in text  # the error was in the file
    first, second = seen(log)
    rows = [row.strip() for row in first.split("\n")]
    assert '"driver": "qcow2",' in rows
    assert '"node-name": "<str>",' in rows
    assert '"file": "<object or str>",' in rows  # qcow2's branch, required
    assert '// "backing": "<object or str or null>",' in rows  # and its optional members
    assert second.startswith("// error: line 10: 'file' still holds its placeholder")
    assert second.split("\n")[9].strip().startswith('"file"')  # line 10 of the reopened file
    assert '"node-name": "disk0"' in second  # the first round's edit kept
    # It ran: the node is there to delete, and the line sent is in the history as
    # compact JSON.
    screen.type("blockdev-del node-name=disk0", "Enter")
    screen.wait_for(r"blockdev-del node-name=disk0\s*\nOK\s*\n\(QEMU\)")
    screen.type("Up", "Up")
    screen.wait_for(
        r'\(QEMU\) \{"execute":"blockdev-add","arguments":\{"driver":"qcow2","node-name":"disk0"'
    )


def test_ctrl_x_ctrl_e_lays_out_the_half_typed_line_and_runs_it(
    newcomer: Any, tmp_path: Path
) -> None:
    env, log = scripted_editor(
        tmp_path,
        [
            [['// "read-zeroes": "<bool>",', '"read-zeroes": "yes",']],
            [['"read-zeroes": "yes"', '"read-zeroes": true']],
        ],
    )
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=120)
    screen.type("blockdev-add driver=null-co node-name=n0 si")
    screen.wait_for(r"\(QEMU\) blockdev-add driver=null-co node-name=n0 si")
    screen.type("C-x", "C-e")
    text = screen.wait_for(
        r'(?s)\(QEMU\) \{"execute":"blockdev-add","arguments":\{"driver":"null-co",'
        r'"node-name":"n0","read-zeroes":true\}\}\s*\nOK\s*\n\(QEMU\)'
    )
    assert "qmpshell:" not in text  # the error was in the file
    first, second = seen(log)
    assert '"node-name": "n0",' in first and '"si"' not in first  # the half word left out
    error = "'read-zeroes' expects a boolean, got the string 'yes'"
    assert second.startswith("// error: line ") and error in second.split("\n")[0]
    line = int(second.split()[3].rstrip(":"))
    assert second.split("\n")[line - 1].strip() == '"read-zeroes": "yes",'  # the line named


def test_giving_up_leaves_the_line_and_sends_nothing(newcomer: Any, tmp_path: Path) -> None:
    env, log = scripted_editor(tmp_path, ["empty", "fail", [], []])
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=140)
    screen.type("device_del id=nic", "C-x", "C-e")
    screen.wait_for(r"(?s)the file was emptied: nothing sent.*\(QEMU\) device_del id=nic\s*\n")
    screen.type("C-x", "C-e")  # the editor fails (vim's :cq)
    screen.wait_for(r"(?s)the editor exited with status 1; nothing sent.*\(QEMU\) device_del id=")
    screen.type("C-u", "/edit device_del", "Enter")  # saved unchanged: a placeholder, twice
    screen.wait_for(
        r"saved unchanged after an error \(line 8: 'id' still holds its placeholder "
        r'"<str>": give it a value\): nothing sent\s*\n\(QEMU\)'
    )
    assert len(seen(log)) == 4
    screen.type("/edit device_dl", "Enter")
    screen.wait_for(r"unknown command 'device_dl'; did you mean 'device_del'")
    assert len(seen(log)) == 4  # no editor for a command that does not exist


def test_a_secret_sent_from_the_editor_stays_out_of_history(newcomer: Any, tmp_path: Path) -> None:
    env, log = scripted_editor(tmp_path, [[['"password": "<str>"', '"password": "hunter2"']]])
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=140)
    screen.type("/edit set_password protocol=vnc", "Enter")
    screen.wait_for(r"(?s)/edit set_password protocol=vnc\n.*Error \(GenericError\).*\n\(QEMU\)")
    screen.type("query-name", "Enter")  # a line after it, to show history is written
    screen.wait_for(r"query-name\s*\n(OK|\{\})")
    history = (tmp_path / "state" / "qmpshell" / "history").read_text()
    assert "query-name" in history
    assert "+/edit set_password protocol=vnc\n" in history  # no secret in that line
    assert "hunter2" not in history and '"set_password"' not in history
    assert len(seen(log)) == 1


def test_a_number_beyond_a_double_is_refused_with_its_line(newcomer: Any, tmp_path: Path) -> None:
    """1e999 reads as infinity, which JSON cannot write back: refused as the prompt
    refuses it ("number out of range"), with its line, and the file reopened; by Ctrl-X
    Ctrl-E too, no traceback, the line left at the prompt when given up."""
    env, log = scripted_editor(
        tmp_path,
        [
            [['"value": "<value>"', '"value": 1e999']],
            [["1e999", "1"]],
            [['"value": 2', '"value": -1E400']],
            "empty",
        ],
    )
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=140)
    screen.type("/edit qom-set path=/machine property=x", "Enter")
    text = screen.wait_for(r"(?s)/edit qom-set path=/machine property=x\n.*Error \(GenericError\)")
    # Sent, once it was a number (the machine's type is named for the QEMU version).
    assert re.search(r"Property 'pc-q35-[\d.]+-machine\.x' not found", text), text
    _, second = seen(log)
    assert second.startswith("// error: line 10: number out of range: 1e999\n")
    assert second.split("\n")[9].strip() == '"value": 1e999,'  # line 10 of the reopened file
    screen.type("qom-set path=/machine property=x value=2", "C-x", "C-e")
    text = screen.wait_for(
        r"the file was emptied: nothing sent\s*\n\(QEMU\) qom-set path=/machine property=x "
        r"value=2 *\n"
    )
    assert seen(log)[3].startswith("// error: line 10: number out of range: -1E400\n")
    assert "Traceback" not in text and "Unhandled exception" not in text
    screen.type("C-u", "query-name", "Enter")  # the session goes on
    screen.wait_for(r"query-name\s*\n(OK|\{\})")


def test_an_editor_that_writes_the_same_bad_text_is_given_up_on(
    newcomer: Any, tmp_path: Path
) -> None:
    """An editor that writes the same text whatever it is given: refused once, given up
    the second time (it was reopened without end); one that writes a new bad text each
    time is given up on after 20 rounds. Nothing sent, the session goes on."""
    bad = '{"execute": "query-status", "arguments": {"verbose": true}}\n'
    rounds: list[Any] = [{"write": bad}] * 3  # then: saved unchanged (the old way out)
    rounds += [{"write": f"// {n}\n{bad}"} for n in range(25)]
    env, log = scripted_editor(tmp_path, rounds)
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=160)
    screen.type("/edit query-status", "Enter")
    screen.wait_for(
        r"saved unchanged after an error \(line 1: unknown argument 'verbose' for this "
        r"command\): nothing sent\s*\n\(QEMU\)"
    )
    assert len(seen(log)) == 2
    screen.type("query-status", "C-x", "C-e")  # the line is left at the prompt
    screen.wait_for(
        r"refused 20 times in a row \(last: line 2: unknown argument 'verbose' for this "
        r"command\): nothing sent\s*\n\(QEMU\) query-status *\n"
    )
    assert len(seen(log)) == 2 + 20  # the same text once more, then 19 new ones
    screen.type("Enter")
    screen.wait_for(r'"status": "prelaunch"')


def test_a_bad_value_is_refused_before_the_editor_opens(newcomer: Any, tmp_path: Path) -> None:
    """driver=bogus: the prompt's one-line error, the caret under it, no editor, by
    /edit and by Ctrl-X Ctrl-E (the line left as typed); the session goes on."""
    env, log = scripted_editor(tmp_path, [])
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=200)
    error = "invalid value 'bogus' for 'driver'; expected one of: blkdebug, "
    screen.type("blockdev-add driver=bogus", "Enter")
    screen.wait_for(rf"(?m)^ {{27}}\^+\nqmpshell: column 21: {error}")
    screen.type("/edit blockdev-add driver=bogus", "Enter")
    screen.wait_for(rf"(?m)^ {{33}}\^+\nqmpshell: column 27: {error}")
    screen.type("blockdev-add driver=qcow2 file.driver=bogus", "C-x", "C-e")
    screen.wait_for(
        r"(?m)qmpshell: Ctrl-X Ctrl-E: invalid value 'bogus' for 'file.driver'.*\n"
        r"\(QEMU\) blockdev-add driver=qcow2 file.driver=bogus *\n",
        joined=True,  # the error wraps
    )
    assert not log.exists()  # the editor never opened
    screen.type("C-u", "query-name", "Enter")
    screen.wait_for(r"query-name\s*\n(OK|\{\})")


def test_ctrl_x_ctrl_e_on_an_empty_line_opens_a_blank_document(
    newcomer: Any, tmp_path: Path
) -> None:
    """As in bash: the editor opens (it was refused, 'type a command name first'); quit
    without writing, nothing is sent; a command written is put at the prompt and run."""
    env, log = scripted_editor(tmp_path, [[], {"write": '{"execute": "query-status"}\n'}])
    screen = newcomer(extra_env={**env, "VISUAL": ""}, width=120)
    screen.type("C-x", "C-e")
    screen.wait_for(r"no command written: nothing sent\s*\n\(QEMU\) *\n")
    (blank,) = seen(log)
    assert blank.startswith("// Write one command as JSON, then save and quit to send it.\n")
    assert is_empty(blank)  # comments only
    screen.type("C-x", "C-e")
    screen.wait_for(r'(?s)\(QEMU\) \{"execute":"query-status"\}\s*\n\{.*"status": "prelaunch"')
    assert len(seen(log)) == 2
