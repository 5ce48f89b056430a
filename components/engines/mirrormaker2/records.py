"""MirrorMaker's own records, as bytes in its Connect worker's topics: what they say, and writing one.

Owns: the Connect offsets record of a MirrorSourceTask (its last copied source offset per partition: read, and
written so that a flow starts where we choose), MirrorMaker's offset-sync record (a pair of source and target
offsets of one copied record), and translating a consumer group's source offset onto the target with them.

Deliberately not here: reading or writing the topics (``tools.switchover.kafka_admin``).
"""

from __future__ import annotations

import json
import struct

TopicPartition = tuple[str, int]


def position_record(connector: str, source: str, topic: str, partition: int, start: int) -> tuple[bytes, bytes]:
    """The Connect offsets record that makes a MirrorSourceTask start reading ``topic``/``partition`` at ``start``.

    Connect looks records up by their key's bytes, so the partition map's keys are in the order Java's
    HashMap iterates MirrorUtils.wrapPartition's map (cluster, partition, topic), compact JSON. The value is
    the last offset copied (the task seeks to it plus one); below zero, the task uses its reset policy
    (earliest), which is where ``start`` 0 means to begin.
    """
    key = json.dumps([connector, {"cluster": source, "partition": partition, "topic": topic}], separators=(",", ":"))
    value = json.dumps({"offset": start - 1}, separators=(",", ":"))
    return key.encode(), value.encode()


def parse_position(key: bytes | None, value: bytes | None, connector: str, source: str) -> tuple[TopicPartition, int] | None:
    """(partition, next offset to copy) from one Connect offsets record of ``connector``; None for others."""
    if key is None or value is None:
        return None
    try:
        name, part = json.loads(key)
        offset = json.loads(value)["offset"]
    except (ValueError, TypeError, KeyError):
        return None
    if name != connector or not isinstance(part, dict) or part.get("cluster") != source:
        return None
    return (str(part["topic"]), int(part["partition"])), int(offset) + 1


def parse_offset_sync(key: bytes | None, value: bytes | None) -> tuple[TopicPartition, tuple[int, int]] | None:
    """MirrorMaker's OffsetSync: key (topic: int16 length + UTF-8, partition: int32), value (upstream, downstream: int64)."""
    if key is None or value is None or len(key) < 6 or len(value) != 16:
        return None
    (n,) = struct.unpack(">h", key[:2])
    if len(key) != 2 + n + 4:
        return None
    topic = key[2 : 2 + n].decode()
    (partition,) = struct.unpack(">i", key[2 + n :])
    upstream, downstream = struct.unpack(">qq", value)
    return (topic, partition), (upstream, downstream)


def translate(committed: int, source_end: int, target_end: int, syncs: list[tuple[int, int]]) -> int | None:
    """A group's committed source offset on the target, after the flow has copied everything up to ``source_end``
    (which then corresponds to ``target_end``).

    Between two sync points (MirrorMaker's offset syncs, and the log ends) whose upstream and downstream offsets
    advanced by the same count, every record was copied once in order (MirrorMaker emits a sync whenever it skips
    a source offset, e.g. a filtered record), so the offset maps exactly. Elsewhere MirrorMaker's own rule: the
    newest sync at or before it, plus one unless it is that very offset (never skips a record; re-reads at most
    the records between syncs). None when no sync precedes it.
    """
    if committed >= source_end:
        return target_end
    points = sorted({*syncs, (source_end, target_end)})
    before = [s for s in points if s[0] <= committed]
    if not before:
        return None
    up, down = before[-1]
    if up == committed:
        return down
    after = next(s for s in points if s[0] > committed)
    if after[0] - up == after[1] - down:
        return down + (committed - up)
    return down + 1
