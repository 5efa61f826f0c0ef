"""Counter, Value and Map against the real broker: exact values and
versions."""

import pytest

import atomix


def test_counter_operations(client):
    jobs = client.counter("jobs")
    assert jobs.get() == 0
    assert jobs.read() == (0, 0)
    assert jobs.increment() == 1
    assert jobs.increment(4) == 5
    assert jobs.decrement() == 4
    v = jobs.set(10)
    assert jobs.read() == (10, v)
    assert jobs.compare_and_set(10, 20) is True
    assert jobs.compare_and_set(10, 30) is False
    assert jobs.get() == 20
    assert jobs.read().version == v + 1  # the failed CAS took no revision
    with pytest.raises(atomix.OutOfRangeError):
        jobs.add(2**63 - 1)
    assert jobs.get() == 20


def test_value_versions(client):
    cfg = client.value("cfg")
    assert cfg.get() is None
    v1 = cfg.set(b"blue")
    assert cfg.get() == (b"blue", v1)
    v2 = cfg.set("green", if_version=v1)
    assert v2 == v1 + 1
    assert cfg.get() == (b"green", v2)
    with pytest.raises(atomix.FailedPreconditionError) as e:
        cfg.set(b"red", if_version=v1)
    assert e.value.current == v2
    assert cfg.get() == (b"green", v2)
    with pytest.raises(atomix.AlreadyExistsError):
        cfg.insert(b"x")
    deleted = cfg.delete(if_version=v2)
    assert deleted == (b"green", v2 + 1)
    assert cfg.get() is None
    with pytest.raises(atomix.NotFoundError):
        cfg.delete()
    v3 = cfg.insert(b"again")
    assert cfg.get() == (b"again", v3)


def test_map_operations(client):
    m = client.map("m")
    assert len(m) == 0
    assert "a" not in m
    va = m.put("a", b"1")
    vb = m.put("b", b"2")
    vc = m.put("c/x", b"3")
    assert (vb, vc) == (va + 1, va + 2)
    assert m.get("a") == (b"1", va)
    assert m.get("zz") is None
    assert "a" in m and len(m) == 3
    assert m["b"] == b"2"
    with pytest.raises(KeyError):
        m["zz"]
    assert list(m) == ["a", "b", "c/x"]
    assert list(m.list()) == [atomix.Entry("a", b"1", va), atomix.Entry("b", b"2", vb),
                              atomix.Entry("c/x", b"3", vc)]
    assert [e.key for e in m.list(prefix="c/")] == ["c/x"]
    # Paging: one entry per page still lists everything once, in order.
    assert [e.key for e in m.list(page_size=1)] == ["a", "b", "c/x"]

    va2 = m.put("a", b"one", if_version=va)
    assert va2 == vc + 1
    with pytest.raises(atomix.FailedPreconditionError) as e:
        m.put("a", b"uno", if_version=va)
    assert e.value.current == va2
    with pytest.raises(atomix.NotFoundError):
        m.update("nope", b"x")
    with pytest.raises(atomix.AlreadyExistsError):
        m.insert("a", b"x")
    removed = m.remove("a", if_version=va2)
    assert removed == (b"one", va2 + 1)
    del m["b"]
    with pytest.raises(KeyError):
        del m["b"]
    m["d"] = "four"
    assert m["d"] == b"four"
    assert m.remove_prefix("c/") == 1
    assert list(m.keys()) == ["d"]


def test_map_fenced_write(make_client):
    c = make_client()
    lock = c.lock("writer")
    m = c.map("guarded")
    with lock as fence:
        v = m.put("k", b"v", if_fence=("writer", fence))
        assert m.get("k") == (b"v", v)
    with pytest.raises(atomix.FailedPreconditionError) as e:
        m.put("k", b"late", if_fence=("writer", fence))
    assert "no longer holds" in str(e.value)
    assert m.get("k") == (b"v", v)
