"""The intake's actions on what was read rather than answered: a slip photo's fields and a
typed story's facts, held for confirmation, corrected, taken or dropped (merged by
flows.readings)."""

from __future__ import annotations

from datetime import date

from transitions import EventData

from flows.intake_core import story_pending
from flows.intake_replies import IntakeReplies
from flows.intake_table import (
    TOLD_FIRST,
    TYPED_KEY,
)
from flows.readings import ASK_KEY, SLIP, STORY, merge, took_answer
from flows.replies import Reply
from flows.story import Story


class IntakeReadings(IntakeReplies):
    """Actions of the slip and story confirmation."""

    # -- the slip -----------------------------------------------------------------------------

    def hold_slip(self, event: EventData) -> None:
        self.record.pending_slip = dict(self._slip_answers or {})
        self.record.pending_source = SLIP
        self.record.fresh = False

    def hold_new_story(self, event: EventData) -> None:
        """A new enquiry told as a story: nothing of an earlier one carries over, and before
        consent nothing else is kept (declining erases it, see drop_story)."""
        story: Story = event.kwargs["story"]
        self.record.answers = {}
        self.record.revising = False
        self.record.failures = 0
        self.record.case_number = None
        self.record.open_only = False
        self.record.origins = {}
        self.record.asked = []
        self.record.climbing = False
        self.record.pending_slip = story_pending(story, {})
        self.record.pending_source = STORY
        self.record.fresh = True

    def add_to_story(self, event: EventData) -> None:
        """More of the story before confirming: what the later message says wins."""
        story: Story = event.kwargs["story"]
        pending = dict(self.record.pending_slip or {})
        more = story_pending(story, self.record.answers)
        asked = [*pending.get(ASK_KEY, []), *more.pop(ASK_KEY, [])]
        pending.update(more)
        taken = {name for name in pending if not name.startswith("_")}
        asked = [a for a in asked if a["field"] not in taken]
        pending.pop(ASK_KEY, None)
        if asked:
            pending[ASK_KEY] = asked
        self.record.pending_slip = pending

    def hold_story(self, event: EventData) -> None:
        """At a question: the story's value for it is the answer, the rest is confirmed first."""
        story = self._story
        assert story is not None
        self._take_story_answer(story)
        self.record.pending_slip = story_pending(story, self.record.answers)
        self.record.pending_source = STORY
        self.record.fresh = False

    def take_story_answer(self, event: EventData) -> None:
        assert self._story is not None
        self._take_story_answer(self._story)
        self.record.open_only = True

    def _take_story_answer(self, story: Story) -> None:
        name = self._question().field
        if name not in story.facts:
            return  # asked again once the rest is confirmed
        self.record.answers[name] = story.facts[name]
        took_answer(self.record.origins, name)
        self.record.failures = 0
        if name == "when":
            self._check_age(date.fromisoformat(story.facts[name]["day"]))

    def reopen_story(self, event: EventData) -> None:
        """Back from the first question shown after a story told at the welcome: what is still
        the story's waits for confirmation again, as before Agree; the merchant's own answers
        stay. Declined now, the enquiry is dropped as declining it then would have."""
        told = [name for name, origin in self.record.origins.items() if origin == STORY]
        answers = self.record.answers
        pending = {name: answers.pop(name) for name in told if name in answers}
        for name in told:
            del self.record.origins[name]
        self.record.asked.remove(TOLD_FIRST)
        self.record.pending_slip = pending
        self.record.pending_source = STORY
        self.record.fresh = True
        self.record.open_only = False

    def drop_story(self, event: EventData) -> None:
        """Declined at the welcome: the story and anything read from it are erased."""
        consented = self.record.consented_at is not None
        self.record.answers = {}
        self._forget_reading()
        self.replies.append(Reply("story_discarded", {"consented": consented}))

    def report_unread_slip(self, event: EventData) -> None:
        """Nothing usable on the photo (or no reader here): say why, then ask as before."""
        problem = event.kwargs.get("problem") or "nothing_read"
        attached = bool(event.kwargs.get("attached"))
        self.replies.append(Reply("slip_unread", {"problem": problem, "attached": attached}))
        self.announce(event)

    def report_slip_at_bank(self, event: EventData) -> None:
        """A photo at the ladder's bank question: a slip prints the paying card's bank, never
        the one the settlement account is at, so it cannot answer; say so, then ask again."""
        attached = bool(event.kwargs.get("attached"))
        self.replies.append(Reply("slip_unread", {"problem": "not_the_bank", "attached": attached}))
        self.announce(event)

    def apply_slip(self, event: EventData) -> None:
        """The merchant confirmed a slip's or a story's values: they become answers through
        the one merge (flows.readings); only open questions remain. Confirming a story told
        before consent is the merchant's agreement to the privacy notice shown with it."""
        pending = dict(self.record.pending_slip or {})
        typed = pending.pop(TYPED_KEY, [])
        merge(self.record.answers, self.record.origins, pending, self.record.pending_source, typed)
        if self.record.fresh and TOLD_FIRST not in self.record.asked:
            self.record.asked.insert(0, TOLD_FIRST)  # Back from the first question returns here
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False
        self.record.revising = False
        self.record.open_only = True
        self.record.failures = 0
        if self.record.consented_at is None:
            self.record.consented_at = self.now
        if "when" in pending and self.record.answers.get("when") == pending["when"]:
            self._check_age(date.fromisoformat(pending["when"]["day"]))

    def drop_slip(self, event: EventData) -> None:
        story = self.record.pending_source == STORY
        self._forget_reading_only()
        self.replies.append(
            Reply("story_discarded" if story else "slip_discarded", {"consented": True})
        )

    def _forget_reading_only(self) -> None:
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False

    def correct_slip_value(self, event: EventData) -> None:
        """A corrected value replaces the one read; Skip or "no receipt" removes it."""
        pending = dict(self.record.pending_slip or {})
        name = self._question().field
        if self._parsed is None:
            pending.pop(name, None)
        else:
            pending[name] = self._parsed
        pending[TYPED_KEY] = sorted({*pending.get(TYPED_KEY, []), name})
        self.record.pending_slip = pending
        self.record.failures = 0

    def remove_slip_value(self, event: EventData) -> None:
        """A value no question asks for (card, batch, auth code) can only be removed."""
        pending = dict(self.record.pending_slip or {})
        pending.pop(event.kwargs.get("field", ""), None)
        self.record.pending_slip = pending
        self.announce(event)
