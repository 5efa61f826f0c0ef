"""Watches: order, detail of each primitive, and resume without gaps or
duplicates after a stream reset and a broker restart."""

import signal
import time

import pytest

import atomix


def test_map_watch_in_order(client):
    m = client.map("m")
    with m.watch() as w:
        v1 = m.put("a", b"1")
        v2 = m.put("a", b"2")
        v3 = m.put("b", b"3")
        removed = m.remove("a")
        events = [w.next(timeout=10) for _ in range(4)]
    assert [(e.type, e.key, e.value, e.revision) for e in events] == [
        ("INSERTED", "a", b"1", v1),
        ("UPDATED", "a", b"2", v2),
        ("INSERTED", "b", b"3", v3),
        ("REMOVED", "a", None, removed.version),
    ]
    assert events[1].previous == (b"1", v1)
    assert events[3].previous == (b"2", v2)


def test_map_watch_of_one_key(client):
    m = client.map("filtered")
    with m.watch(key="x") as w:
        m.put("y", b"ignored")
        vx = m.put("x", b"seen")
        e = w.next(timeout=10)
    assert (e.type, e.key, e.value, e.revision) == ("INSERTED", "x", b"seen", vx)


def test_counter_lock_election_watch(client):
    counter, lock, election = client.counter("c"), client.lock("l"), client.election("e")
    with counter.watch() as wc, lock.watch() as wl, election.watch() as we:
        counter.increment(5)
        v = counter.set(7)
        fence = lock.acquire()
        released = lock.release()
        term = election.enter("me")
        ec = [wc.next(timeout=10) for _ in range(2)]
        el = [wl.next(timeout=10) for _ in range(2)]
        ee = we.next(timeout=10)
    assert [(e.type, e.value, e.previous) for e in ec] == [("UPDATED", 5, 0), ("UPDATED", 7, 5)]
    assert ec[1].revision == v
    assert [(e.type, e.fence, e.revision) for e in el] == [
        ("INSERTED", fence, fence), ("REMOVED", 0, released)]
    assert el[0].session_id == client.session.id
    assert (ee.type, ee.term, ee.revision) == ("INSERTED", term, term.term)


def test_watch_from_revision_replays_history(client):
    m = client.map("history")
    first = m.put("k", b"1")
    m.put("k", b"2")
    with m.watch(from_revision=first) as w:
        got = [(e.value, e.revision) for e in (w.next(timeout=10), w.next(timeout=10))]
    assert got == [(b"1", first), (b"2", first + 1)]


def _drain_exactly(w, n):
    return [w.next(timeout=30) for _ in range(n)]


def test_watch_resumes_after_stream_reset(broker, client):
    c = client.counter("c")
    with c.watch() as w:
        before = [c.increment() for _ in range(3)]
        assert [e.value for e in _drain_exactly(w, 3)] == before
        broker.signal(signal.SIGUSR2)  # resets every Stream and Watch call
        after = [c.increment() for _ in range(3)]
        events = _drain_exactly(w, 3)
        assert [e.value for e in events] == after == [4, 5, 6]
        assert [e.type for e in events] == ["UPDATED"] * 3
        with pytest.raises(atomix.DeadlineExceededError):
            w.next(timeout=0.5)  # nothing repeated


def test_watch_resumes_after_broker_restart(start_broker, tmp_path):
    data = tmp_path / "data"
    broker = start_broker("--store", "disk", "--data-dir", str(data))
    with atomix.Client(broker.endpoint, timeout=30) as c:
        m = c.map("m")
        with m.watch() as w:
            versions = [m.put(f"k{i}", b"before") for i in range(3)]
            assert [e.revision for e in _drain_exactly(w, 3)] == versions
            session = c.session.id
            # Same data dir and port. Down for a second, so the client's
            # connection fails at least once and must come back by itself
            # well within the session's TTL (10 s).
            broker.restart(down=1.0)
            versions += [m.put(f"k{i}", b"after") for i in range(3)]
            assert c.session.id == session  # the disk store kept it
            events = _drain_exactly(w, 3)
            assert [(e.type, e.key, e.value, e.revision) for e in events] == [
                ("UPDATED", f"k{i}", b"after", versions[3 + i]) for i in range(3)]
            assert versions == sorted(set(versions))
            with pytest.raises(atomix.DeadlineExceededError):
                w.next(timeout=0.5)  # nothing repeated
        assert broker.starts == 2


def test_watch_after_memory_broker_restart_starts_with_a_snapshot(broker, client):
    m = client.map("m")
    with m.watch() as w:
        v = m.put("a", b"1")
        assert w.next(timeout=10).revision == v
        broker.restart()  # the memory store forgets everything, sessions too
        assert m.get("a") is None  # a read waits for the broker to be back
        v2 = m.put("b", b"2")  # refused for its old session, sent under a new one
        snapshot_or_event = w.next(timeout=30)
        if snapshot_or_event.type == "SNAPSHOT":
            assert snapshot_or_event.reason == "NEW_BROKER"
            assert [e.key for e in snapshot_or_event.entries] in ([], ["b"])
            if not snapshot_or_event.entries:
                assert w.next(timeout=30).revision == v2
        else:
            pytest.fail(f"expected a NEW_BROKER snapshot, got {snapshot_or_event}")


def test_closing_the_client_ends_its_watches(make_client):
    c = make_client()
    w = c.counter("c").watch()
    c.close()
    assert list(w) == []  # iteration ends; nothing raised


def test_a_slow_reader_holds_at_most_max_queued_events(client, monkeypatch):
    monkeypatch.setattr(atomix.watch, "MAX_QUEUED", 5)
    counter = client.counter("slow")
    with counter.watch() as w:
        for _ in range(50):
            counter.increment()
        # The reader thread filled the buffer and waits: exactly 5 queued.
        deadline = time.monotonic() + 10
        while len(w._queue._items) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(w._queue._items) == 5
        values = [w.next(timeout=10).value for _ in range(50)]
    assert values == list(range(1, 51))
