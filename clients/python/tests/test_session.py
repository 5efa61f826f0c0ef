"""Sessions: keep-alive, loss by the broker's word and by the client's
clock, and exactly-once retries under dropped responses."""

import signal

import pytest

import atomix


def test_exactly_once_under_dropped_responses(start_broker):
    # The broker drops 30% of its answers after applying the request.
    broker = start_broker("--store", "memory", "--fault-drop-responses", "0.3",
                          "--fault-seed", "11")
    with atomix.Client(broker.endpoint, timeout=30) as c:
        jobs = c.counter("jobs")
        # Each retried increment returns its first answer: 1, 2, ..., 200.
        assert [jobs.increment() for _ in range(200)] == list(range(1, 201))
        assert jobs.get() == 200
        m = c.map("m")
        versions = [m.put(f"k{i}", b"v") for i in range(50)]
        assert versions == list(range(versions[0], versions[0] + 50))
        assert len(m) == 50


def test_session_expiry_is_an_exception(broker, client):
    lock = client.lock("l")
    lock.acquire()
    old = client.session
    assert old.alive
    broker.signal(signal.SIGUSR1)  # the broker expires every session
    assert old.wait_done(30)
    assert old.state == "lost"
    with pytest.raises(atomix.SessionLostError) as e:
        lock.release()
    assert isinstance(e.value, atomix.AbortedError)
    # The client goes on with a new session.
    assert client.counter("c").increment() == 1
    assert client.session.id != old.id
    with lock as fence:
        assert fence > 0


def test_session_lost_by_client_clock(broker, make_client):
    c = make_client(session_ttl=1.0)
    lock = c.lock("l")
    lock.acquire()
    session = c.session
    broker.signal(signal.SIGSTOP)  # no keep-alive is answered any more
    try:
        assert session.wait_done(30)
        assert session.state == "lost"
        assert "expired" in str(pytest.raises(atomix.SessionLostError, session.check).value)
    finally:
        broker.signal(signal.SIGCONT)
    with pytest.raises(atomix.SessionLostError):
        lock.release()


def test_ephemeral_entries_go_with_the_session(make_client):
    a, b = make_client(), make_client()
    a.map("members").put("a", b"up", ephemeral=True)
    b.map("members").put("b", b"up")
    assert list(b.map("members")) == ["a", "b"]
    a.close()
    assert list(b.map("members")) == ["b"]


def test_exactly_once_from_threads(start_broker):
    import threading
    broker = start_broker("--store", "memory", "--fault-drop-responses", "0.3",
                          "--fault-seed", "5")
    with atomix.Client(broker.endpoint, timeout=30) as c:
        jobs = c.counter("jobs")
        seen = []
        lock = threading.Lock()

        def work():
            got = [jobs.increment() for _ in range(50)]
            with lock:
                seen.extend(got)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        # Every increment applied once and answered with its own value.
        assert sorted(seen) == list(range(1, 201))
        assert jobs.get() == 200
