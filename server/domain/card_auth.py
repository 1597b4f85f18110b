"""When a tap must prove its card is no copy, and whether what it proved is enough.

A card is only its UID to a reader: anyone who read it once can make another. NTAG 424 DNA and
FeliCa Lite-S cards can prove themselves (server/card_keys/); these rules say when they must, and
that each proof is accepted once only. Pure: the ingest hands in the facts (server/ingest/card_check.py).
"""

from __future__ import annotations

from dataclasses import dataclass

CLONE_SUSPECTED = "clone_suspected"


@dataclass(frozen=True, slots=True)
class Proof:
    """What one scan's tag said, checked: `ok` when the cryptography held, else `why` it did not."""

    kind: str | None  # ntag424_sun | felica_lite_s_mac; None: the scan carried nothing
    ok: bool
    why: str | None = None
    counter: int | None = None  # an NTAG 424 DNA's read counter
    challenge: str | None = None  # a FeliCa Lite-S read's challenge


NOTHING = Proof(kind=None, ok=False, why="missing")


def must_prove(*, card_kind: str | None, reader_requires: bool, person_requires: bool) -> bool:
    """A card of a kind that can prove itself must, on a reader that asks; a person marked so must always
    (a plain card of theirs cannot, and is refused: that is the point of marking them)."""
    return person_requires or (reader_requires and card_kind is not None)


def counter_fits(counter: int, before: int | None, after: int | None) -> bool:
    """A tag's read counter only goes up: above every counter accepted at an earlier time, below every one
    accepted at a later time (a scan that arrives late, from a reader's outbox, falls between).

    A copy replays a counter the tag has already passed: it lands at or below one accepted before it.
    """
    return (before is None or counter > before) and (after is None or counter < after)


def considered(*, card_kind: str | None, required: bool) -> bool:
    """Whether a tap's proof (or its lack) is judged at all: only for cards registered as able to prove
    themselves, or where a proof is required. A tag provisioned by somebody else (a product's own SUN) used
    as a plain tag is left alone."""
    return required or card_kind is not None


def judge(proof: Proof, *, card_kind: str | None, required: bool, used: bool, fits: bool) -> str | None:
    """The deny reason for a considered scan, or None.

    `used`: the proof's counter or challenge was accepted before (a replayed message); `fits`: the counter
    lies in order. A proof that fails is suspect whether or not one was required: a genuine tag never sends
    a bad one, nor one of another kind than it is registered as. No proof at all is suspect only where one
    is required (an old reader sends none).
    """
    if proof.kind is None:
        return CLONE_SUSPECTED if required else None
    if not proof.ok or used or not fits or (card_kind is not None and proof.kind != card_kind):
        return CLONE_SUSPECTED
    return None


def failure(proof: Proof, *, card_kind: str | None, used: bool, fits: bool) -> str | None:
    """Why a proof was not accepted, for the ledger (None when it was)."""
    if not proof.ok:
        return proof.why
    if card_kind is not None and proof.kind != card_kind:
        return "other_kind"
    if used:
        return "replayed"
    if not fits:
        return "old_counter"
    return None
