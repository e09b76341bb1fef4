"""The FreeBSD-style zero-copy buffer pair: handover, acknowledgement, drops, order."""

from __future__ import annotations

import os
import struct
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpfc.capture.zbuf import HEADER, Consumer, Producer, buffer_pair


def _packet(seq: int, size: int = 40) -> bytes:
    return struct.pack(">I", seq) + bytes((seq + i) & 0xFF for i in range(size - 4))


def _seqs(hold) -> list[int]:
    return [struct.unpack(">I", bytes(p.data[:4]))[0] for p in hold]


def test_nothing_is_visible_until_rotation_and_then_in_order() -> None:
    _, producer, consumer = buffer_pair(4096)
    for seq in range(5):
        assert producer.append(_packet(seq), ts_ns=seq, wirelen=100 + seq)
    assert consumer.acquire() is None  # still in the store buffer
    assert producer.rotate()
    hold = consumer.acquire()
    assert hold is not None and hold.generation == 1
    packets = list(hold)
    assert [p.ts_ns for p in packets] == list(range(5))
    assert [p.wirelen for p in packets] == [100, 101, 102, 103, 104]
    assert [bytes(p.data) for p in packets] == [_packet(s) for s in range(5)]
    assert all(isinstance(p.data, memoryview) for p in packets)


def test_records_are_views_into_the_shared_memory() -> None:
    memory, producer, consumer = buffer_pair(4096)
    producer.append(b"abcdef")
    producer.rotate()
    packet = next(iter(consumer.acquire()))
    memory[HEADER.size + 24] = ord("X")  # change the shared bytes under the view
    assert bytes(packet.data) == b"Xbcdef"


def test_ack_copies_the_generation_and_frees_the_buffer() -> None:
    memory, producer, consumer = buffer_pair(4096)
    producer.append(b"one")
    producer.rotate()
    hold = consumer.acquire()
    kernel_gen, kernel_len, user_gen = struct.unpack_from("=III", memory, 0)
    assert (kernel_gen, user_gen) == (1, 0) and kernel_len == 32
    hold.ack()
    assert struct.unpack_from("=III", memory, 0)[2] == 1
    assert consumer.acquire() is None
    producer.append(b"two")
    assert producer.rotate()  # into buffer 1 now
    hold = consumer.acquire()
    assert hold.index == 1 and _first(hold) == b"two"
    hold.ack()
    producer.append(b"three")
    assert producer.rotate()  # buffer 0 again, second generation
    hold = consumer.acquire()
    assert (hold.index, hold.generation, _first(hold)) == (0, 2, b"three")


def _first(hold) -> bytes:
    return bytes(next(iter(hold)).data)


def test_an_unacknowledged_buffer_is_never_overwritten_and_drops_are_counted() -> None:
    memory, producer, consumer = buffer_pair(256)
    sent = 0
    while producer.append(_packet(sent)):
        sent += 1
    # the store filled, rotated into the (free) other buffer, which filled as well
    assert producer.rotations == 1 and producer.drops == 1
    hold = consumer.acquire()
    snapshot = bytes(memory[hold.layout.base(hold.index) : hold.layout.base(hold.index) + 256])
    for seq in range(100, 120):
        assert not producer.append(_packet(seq))
    assert producer.drops == 21
    assert bytes(memory[hold.layout.base(hold.index) : hold.layout.base(hold.index) + 256]) == (
        snapshot
    )
    assert not producer.rotate()
    first = _seqs(hold)
    hold.ack()
    assert producer.rotate()
    second = _seqs(consumer.acquire())
    assert first + second == list(range(sent))


def test_timeout_rotation() -> None:
    _, producer, consumer = buffer_pair(4096)
    producer.timeout = 0.5
    producer.append(b"late")
    assert not producer.tick(producer.rotated_at + 0.1)
    assert consumer.acquire() is None
    assert producer.tick(producer.rotated_at + 0.6)
    assert _first(consumer.acquire()) == b"late"


def test_oversized_packets_are_dropped_and_counted() -> None:
    _, producer, _ = buffer_pair(128)
    assert not producer.append(bytes(200))
    assert producer.drops == 1 and producer.packets == 0


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        Producer(bytearray(1000), 100)
    with pytest.raises(ValueError, match="less than 2 x"):
        Consumer(bytearray(100), 64)
    with pytest.raises(ValueError, match="writable"):
        Consumer(bytes(256), 128)


@given(
    ops=st.lists(
        st.one_of(st.integers(0, 120), st.sampled_from(["rotate", "consume"])), max_size=60
    ),
    size=st.sampled_from([128, 256, 512]),
)
def test_every_packet_is_delivered_once_in_order_or_counted_as_dropped(
    ops: list, size: int
) -> None:
    _, producer, consumer = buffer_pair(size)
    stored, delivered, seq = [], [], 0
    for op in ops:
        if op == "rotate":
            producer.rotate()
        elif op == "consume":
            hold = consumer.acquire()
            if hold is not None:
                delivered += _seqs(hold)
                hold.ack()
        else:
            if producer.append(_packet(seq, 4 + op)):
                stored.append(seq)
            seq += 1
    while True:  # drain
        hold = consumer.acquire()
        if hold is None and not producer.rotate():
            break
        if hold is not None:
            delivered += _seqs(hold)
            hold.ack()
    assert delivered == stored
    assert producer.drops + len(stored) == seq


def test_threads_lose_nothing_when_the_consumer_keeps_up() -> None:
    _, producer, consumer = buffer_pair(2048)
    total, got, done = 3000, [], threading.Event()

    def produce() -> None:
        for seq in range(total):
            while not producer.room(40):
                time.sleep(0)
            assert producer.append(_packet(seq))
        while not producer.rotate():
            time.sleep(0)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    deadline = time.monotonic() + 20
    while len(got) < total and time.monotonic() < deadline:
        hold = consumer.acquire()
        if hold is None:
            time.sleep(0)
            continue
        got += _seqs(hold)
        hold.ack()
    thread.join(5)
    assert got == list(range(total))
    assert producer.drops == 0 and producer.rotations > 10


def test_threads_count_drops_when_the_consumer_is_slow() -> None:
    _, producer, consumer = buffer_pair(512)
    total, got = 2000, []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            hold = consumer.acquire()
            if hold is not None:
                time.sleep(0.002)  # slow consumer
                got.extend(_seqs(hold))
                hold.ack()
            else:
                time.sleep(0.0005)

    thread = threading.Thread(target=consume)
    thread.start()
    for seq in range(total):
        producer.append(_packet(seq))
    deadline = time.monotonic() + 10
    while producer.pending and time.monotonic() < deadline:
        producer.rotate()
        time.sleep(0.001)
    time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert producer.drops > 0
    assert len(got) + producer.drops == total
    assert got == sorted(got)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_shared_mapping_between_processes() -> None:
    memory, _, consumer = buffer_pair(1024, shared=True)
    total = 500
    pid = os.fork()
    if pid == 0:  # child: the producer, with its own state over the shared memory
        code = 1
        try:
            producer = Producer(memory, 1024)
            deadline = time.monotonic() + 10
            for seq in range(total):
                while not producer.room(40) and time.monotonic() < deadline:
                    time.sleep(0.0001)
                producer.append(_packet(seq))
            while not producer.rotate() and producer.pending and time.monotonic() < deadline:
                time.sleep(0.0001)
            code = 0 if producer.drops == 0 else 2
        finally:
            os._exit(code)
    got: list[int] = []
    deadline = time.monotonic() + 15
    while len(got) < total and time.monotonic() < deadline:
        hold = consumer.acquire()
        if hold is None:
            time.sleep(0.0001)
            continue
        got += _seqs(hold)
        hold.ack()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert got == list(range(total))


def test_hold_as_a_chunk_for_the_batch_engine() -> None:
    np = pytest.importorskip("numpy")
    from bpfc.capture.batch import run_batch

    _, producer, consumer = buffer_pair(4096)
    for seq in range(10):
        producer.append(_packet(seq, 8 + seq), wirelen=500 + seq)
    producer.rotate()
    hold = consumer.acquire()
    chunk = hold.chunk()
    assert [bytes(chunk.data(i)) for i in range(len(chunk))] == [bytes(p.data) for p in hold]
    # accept packets whose fourth byte is odd: ldb [3]; jset #1
    prog = [(0x30, 0, 0, 3), (0x45, 0, 1, 1), (0x16, 0, 0, 0), (0x06, 0, 0, 0)]
    chunk_result = run_batch(prog, chunk.buf, chunk.data_off, chunk.caplen, chunk.wirelen)
    assert chunk_result.tolist() == [s if s % 2 else 0 for s in range(10)]
    assert np.array_equal(chunk.wirelen, np.arange(500, 510))


def test_relay_a_capture_file_through_the_pair_to_the_batch_engine(upstream) -> None:
    """Producer = file reader, consumer = batch engine over each hold buffer in place."""
    pytest.importorskip("numpy")
    from bpfc.capture import open_capture
    from bpfc.capture.batch import run_batch
    from bpfc.capture.zbuf import relay
    from bpfc.vm.interp import interpret

    # the IPv4 protocol byte is UDP (no EtherType check): ldb [23]; jeq #17
    prog = [(0x30, 0, 0, 23), (0x15, 0, 1, 17), (0x06, 0, 0, 0xFFFF), (0x06, 0, 0, 0)]
    seen: list[tuple[bytes, int]] = []

    def handle(hold) -> None:
        chunk = hold.chunk()
        verdicts = run_batch(prog, chunk.buf, chunk.data_off, chunk.caplen, chunk.wirelen)
        seen.extend((bytes(chunk.data(i)), int(v)) for i, v in enumerate(verdicts.tolist()))

    path = upstream / "pcaps" / "afs.pcap"
    with open_capture(path) as reader:
        producer = relay(reader, handle, size=16384)
    with open_capture(path) as reader:
        want = [(bytes(p.data), interpret(prog, p.data, p.wirelen)) for p in reader]
    assert producer.drops == 0 and producer.rotations > 20
    assert seen == want
    assert 0 < sum(1 for _, v in want if v) < len(want)


def test_a_file_backed_pair_is_shared_by_separate_mappings(tmp_path) -> None:
    """Two mappings of one file (as two unrelated processes would have) see one pair."""
    path = str(tmp_path / "zbuf")
    _, producer, _ = buffer_pair(1024, path=path)
    _, _, consumer = buffer_pair(1024, path=path)  # a second, independent mapping
    got: list[int] = []

    def take() -> bool:
        hold = consumer.acquire()
        if hold is None:
            return False
        got.extend(_seqs(hold))
        hold.ack()
        return True

    for seq in range(60):
        while not producer.room(40):
            assert take()
        assert producer.append(_packet(seq))
    while producer.pending:
        if not producer.rotate():
            assert take()
    take()
    assert got == list(range(60)) and producer.rotations > 2
