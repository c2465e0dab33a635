"""Commands laid out the way the examples in QEMU's ``qapi/*.json`` documentation are:
one JSON object over several lines, indented, spaces inside the braces.

Each entry is ``(text, succeeds)``: whether QEMU answers it with ``return`` on the paused
q35 machine the tests start (diskless, ``-S``), where a node ``null0`` was added by an
earlier example. The texts are this project's own, written in that layout.
"""

from __future__ import annotations

from textwrap import dedent


def _example(text: str) -> str:
    return dedent(text).strip("\n")


EXAMPLES: list[tuple[str, bool]] = [
    (
        """
        { "execute": "query-status" }
        """,
        True,
    ),
    (
        """
        { "execute": "blockdev-add",
          "arguments": {
              "driver": "null-co",
              "node-name": "null0",
              "size": 1048576
          }
        }
        """,
        True,
    ),
    (
        """
        { "execute": "query-named-block-nodes",
          "arguments": { "flat": true } }
        """,
        True,
    ),
    (
        """
        { "execute": "block-dirty-bitmap-add",
          "arguments": { "node": "null0",
                         "name": "bitmap0",
                         "persistent": false } }
        """,
        True,
    ),
    (
        """
        { "execute": "transaction",
          "arguments": {
            "actions": [
              { "type": "block-dirty-bitmap-add",
                "data": { "node": "null0", "name": "bitmap1" } },
              { "type": "block-dirty-bitmap-clear",
                "data": { "node": "null0", "name": "bitmap0" } }
            ]
          }
        }
        """,
        True,
    ),
    (
        """
        { "execute": "block-dirty-bitmap-remove",
          "arguments": { "node": "null0", "name": "bitmap1" } }
        """,
        True,
    ),
    (
        """
        { "execute": "block-set-write-threshold",
          "arguments": { "node-name": "null0",
                         "write-threshold": 17179869184 } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-block-jobs" }
        """,
        True,
    ),
    (
        """
        { "execute": "query-jobs" }
        """,
        True,
    ),
    (
        """
        { "execute": "object-add",
          "arguments": { "qom-type": "memory-backend-ram",
                         "id": "mem0",
                         "size": 16777216 } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-memdev" }
        """,
        True,
    ),
    (
        """
        { "execute": "object-add",
          "arguments": { "qom-type": "iothread",
                         "id": "io0",
                         "poll-max-ns": 0 } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-iothreads" }
        """,
        True,
    ),
    (
        """
        { "execute": "object-del",
          "arguments": { "id": "io0" } }
        """,
        True,
    ),
    (
        """
        { "execute": "qom-list",
          "arguments": { "path": "/machine" } }
        """,
        True,
    ),
    (
        """
        { "execute": "qom-get",
          "arguments": { "path": "/machine",
                         "property": "type" } }
        """,
        True,
    ),
    (
        """
        { "execute": "qom-set",
          "arguments": { "path": "/machine",
                         "property": "no-such-property",
                         "value": 1 } }
        """,
        False,
    ),
    (
        """
        { "execute": "chardev-add",
          "arguments": { "id": "null-chr",
                         "backend": { "type": "null",
                                      "data": {} } } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-chardev" }
        """,
        True,
    ),
    (
        """
        { "execute": "chardev-remove",
          "arguments": { "id": "null-chr" } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-cpus-fast" }
        """,
        True,
    ),
    (
        """
        { "execute": "query-hotpluggable-cpus" }
        """,
        True,
    ),
    (
        """
        { "execute": "device-list-properties",
          "arguments": { "typename": "virtio-balloon-pci" } }
        """,
        True,
    ),
    (
        """
        { "execute": "qom-list-types",
          "arguments": { "implements": "memory-backend",
                         "abstract": false } }
        """,
        True,
    ),
    (
        """
        { "execute": "device_add",
          "arguments": { "driver": "no-such-driver",
                         "id": "dev0" } }
        """,
        False,
    ),
    (
        """
        { "execute": "query-pci" }
        """,
        True,
    ),
    (
        """
        { "execute": "device_del",
          "arguments": { "id": "no-such-device" } }
        """,
        False,
    ),
    (
        """
        { "execute": "migrate-set-parameters",
          "arguments": { "downtime-limit": 300,
                         "max-bandwidth": 33554432 } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-migrate-parameters" }
        """,
        True,
    ),
    (
        """
        { "execute": "migrate-set-capabilities",
          "arguments": { "capabilities": [
              { "capability": "events", "state": true } ] } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-migrate-capabilities" }
        """,
        True,
    ),
    (
        """
        { "execute": "human-monitor-command",
          "arguments": { "command-line": "info status" } }
        """,
        True,
    ),
    (
        """
        { "execute": "query-version",
          "id": "example-with-an-id" }
        """,
        True,
    ),
    (
        """
        { "execute": "blockdev-del",
          "arguments": { "node-name": "no-such-node" } }
        """,
        False,
    ),
    (
        """
        { "execute": "query-name" }
        """,
        True,
    ),
]

EXAMPLES = [(_example(text), succeeds) for text, succeeds in EXAMPLES]
