"""Election: leader election among candidates owned by sessions.

    e = c.election("scheduler")
    term = e.enter("node-1")     # Term(leader='node-1', term=..., candidates=['node-1'])
    e.leader()                   # -> 'node-1' (None when nobody leads)
    e.term()                     # -> the current Term
    e.leave("node-1")

The first candidate is the leader. ``Term.term`` is the revision at which
the leader last changed, so it rises with every change of leader. A
candidacy belongs to the client's session: when the session ends (the
client closes, or its keep-alives stop for a TTL), its candidacies are
withdrawn and the next candidate leads. Thread-safe.
"""

from typing import List, NamedTuple, Optional

from ._primitive import Bytes, Primitive, to_bytes, to_str
from ._stubs import types_pb2
from .client import CURRENT


class Term(NamedTuple):
    leader: Optional[str]
    term: int
    candidates: List[str]


def to_term(t) -> Term:
    return Term(to_str(t.leader) if t.leader else None, t.term,
                [to_str(c) for c in t.candidates])


class Election(Primitive):
    TYPE = types_pb2.ELECTION

    def _op(self, op: str, candidate: Optional[Bytes], timeout, session=None) -> Term:
        req = self._request()
        msg = getattr(req.election, op)
        msg.SetInParent()
        if candidate is not None:
            msg.candidate_id = to_bytes(candidate)
        mutation = op != "get_term"
        resp = self._client._execute(
            req, timeout=timeout, mutation=mutation,
            session=(session or CURRENT) if mutation else None)
        return to_term(resp.election.term)

    def enter(self, candidate: Bytes, *, timeout: Optional[float] = None) -> Term:
        """Adds ``candidate`` (owned by this client's session), last."""
        return self._op("enter", candidate, timeout)

    def leave(self, candidate: Bytes, *, timeout: Optional[float] = None) -> Term:
        """Withdraws this session's ``candidate``."""
        return self._op("leave", candidate, timeout)

    def anoint(self, candidate: Bytes, *, timeout: Optional[float] = None) -> Term:
        """Makes ``candidate`` the leader."""
        return self._op("anoint", candidate, timeout)

    def evict(self, candidate: Bytes, *, timeout: Optional[float] = None) -> Term:
        """Removes ``candidate``, whichever session owns it."""
        return self._op("evict", candidate, timeout)

    def term(self, *, timeout: Optional[float] = None) -> Term:
        return self._op("get_term", None, timeout)

    def leader(self, *, timeout: Optional[float] = None) -> Optional[str]:
        return self.term(timeout=timeout).leader
