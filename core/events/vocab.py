"""Vocabulary of matchmaking events (对接活动)."""
from __future__ import annotations

from core.vocab import Labeled


class EventKind(Labeled):
    matchmaking = ("matchmaking", "供需对接会")
    roadshow = ("roadshow", "成果路演")
    visit = ("visit", "走企入校")
    training = ("training", "培训交流")
    other = ("other", "其他")
