"""The intake's states and transitions, as one table (`posbot diagram` draws it).

Each row names the trigger, where it goes, and the conditions and actions it runs by name on
the `Intake` model (`flows.intake`, its conditions in `flows.intake_conditions`).
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from flows.questions import (
    BY_FIELD,
    QUESTIONS,
    RECEIPT_FIELDS,
)

IDLE = "idle"
REVIEWING = "reviewing"
SUMMARIZED = "summarized"
#: What was read off a slip photo waits here for the merchant's "is this right?".
CONFIRMING_SLIP = "confirming_slip"
#: Passed through, never stored: picks the first question still open (or the review).
CHOOSING_NEXT = "choosing_next"

#: Failures after which the question offers Skip (when optional) and a person.
FAILURES_BEFORE_HELP = 3
LOCALES = ("zh", "en")


def asking_state(name: str) -> str:
    return BY_FIELD[name].state


_s = asking_state  # short, for the table's columns


ASKING = [question.state for question in QUESTIONS]
STATES = [IDLE, *ASKING, CONFIRMING_SLIP, CHOOSING_NEXT, REVIEWING, SUMMARIZED]
RECEIPT_STATES = [asking_state(name) for name in RECEIPT_FIELDS]
#: Questions of the walk: all but the slip's type (never asked, only changed or corrected).
WALKED = [state for state in ASKING if state != asking_state("slip_type")]
#: Questions asked to correct one value of a reading (a slip's or a story's) before confirming.
SLIP_STATES = list(ASKING)
#: What a story tells beside the answers: kept with them, removable before confirming.
STORY_EXTRAS: tuple[str, ...] = ("received_amount", "received_day")
#: Pending keys of the merchant's own corrections while confirming (they count as answers).
TYPED_KEY = "_typed"
#: Marks in `asked` that the enquiry began with a story confirmed before any question was shown:
#: Back from the first question shown returns to that story's confirmation.
TOLD_FIRST = "_told"
#: Questions whose answers are digits a story would misread as an amount.
KEY_QUESTIONS = frozenset({*RECEIPT_FIELDS, "order_no"})
#: Where a slip photo is read: during the intake (after consent), on review, while confirming.
SLIP_SOURCES = [*ASKING, REVIEWING, CONFIRMING_SLIP]
READS_SLIPS = frozenset(SLIP_SOURCES)
#: Where the acquirer's records can answer: while the answers are still being given.
LOOKUP_SOURCES = [*ASKING, REVIEWING, CONFIRMING_SLIP]

ACCEPT = "accept_answer"


def _t(
    trigger: str, source: str | list[str], dest: str | None, **extra: str | list[str]
) -> dict[str, Any]:
    """One row of the table, in the dict form `transitions` takes."""
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


# Order matters: for one trigger and source, the first transition whose conditions hold wins.
# One row per transition: trigger, source(s), destination (None: stay), then guards and actions.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    # Welcome, consent, starting over.
    _t("welcome", [IDLE, SUMMARIZED],   IDLE),
    _t("welcome", [*ASKING, CONFIRMING_SLIP, REVIEWING], None, after="resume"),
    _t("begin",   [IDLE, SUMMARIZED],   _s("when"), before="start_over"),
    # The bank asked for the ladder's bank rung (below): leaving it returns to the summary.
    _t("cancel",  _s("bank"), SUMMARIZED, conditions="climbing", before="stop_climbing"),
    _t("cancel",  [*ASKING, CONFIRMING_SLIP, REVIEWING], IDLE, before="drop_answers"),
    # A photo of the slip: what was read waits for "is this right?"; nothing read, re-ask.
    _t("read_slip", _s("bank"), None, conditions="climbing", after="report_slip_at_bank"),
    _t("read_slip", SLIP_SOURCES, None, unless="slip_has_answers", after="report_unread_slip"),
    _t("read_slip", SLIP_SOURCES, CONFIRMING_SLIP, before="hold_slip"),
    # A story typed at the welcome or after a summary: what was understood waits for "is this
    # right?" like a slip's fields (before consent, with the privacy notice and "Agree").
    _t("tell", [IDLE, SUMMARIZED], CONFIRMING_SLIP, before="hold_new_story"),
    _t("tell", CONFIRMING_SLIP, CONFIRMING_SLIP, conditions="story_pending",
       before="add_to_story"),
    # Answers: "Other" asks for text, a two-way date (3/4) asks which reading, invalid answers
    # are re-asked, a change returns to review (or to the slip's confirmation), and after a
    # slip only the questions still open are asked.
    _t("answer", ASKING, None, conditions="wants_free_text", after="ask_free_text"),
    _t("answer", ASKING, None, conditions="reads_two_ways", after="ask_which_reading"),
    # Typed text that is more than the answer is read as a story: a person asked for, facts for
    # other questions too (confirmed first), the answer said in other words, cancel, restart.
    _t("answer", ASKING, None, conditions="story_wants_person", unless="answer_is_valid",
       after="record_person_request"),
    _t("answer", ASKING, CONFIRMING_SLIP, conditions="tells_more",
       unless=["correcting_slip", "climbing"], before="hold_story"),
    _t("answer", ASKING, CHOOSING_NEXT, conditions="story_answers_it",
       unless=["answer_is_valid", "correcting_slip"], before="take_story_answer"),
    _t("answer", ASKING, IDLE, conditions="story_cancels", unless="answer_is_valid",
       before="drop_answers"),
    _t("answer", ASKING, _s("when"), conditions="story_restarts", unless="answer_is_valid",
       before="start_over"),
    _t("answer", ASKING, None, unless="answer_is_valid", after="reject_answer"),
    # The bank, asked at the ladder's bank rung: the rung follows with its hotline.
    _t("answer", _s("bank"), SUMMARIZED, conditions="climbing",
       before=[ACCEPT, "bank_for_ladder"], after="recheck"),
    _t("answer", SLIP_STATES, CONFIRMING_SLIP, conditions="correcting_slip",
       before="correct_slip_value"),
    _t("answer", ASKING, REVIEWING, conditions="revising", before=ACCEPT),
    _t("answer", ASKING, CHOOSING_NEXT, conditions="open_only", before=ACCEPT),
    # Keys first (a records lookup is configured): the slip or the reference number right after
    # the date and amount; from there on, the first question still open.
    _t("answer", _s("reference"), CHOOSING_NEXT, conditions="asked_keys_first",
       before=[ACCEPT, "only_open_next"]),
    _t("answer", RECEIPT_STATES, REVIEWING, conditions="no_receipt_at_hand", before=ACCEPT),
    _t("answer", _s("when"),        _s("amount"),      before=ACCEPT),
    _t("answer", _s("amount"),      _s("reference"),   before=ACCEPT, conditions="keys_first"),
    _t("answer", _s("amount"),      _s("method"),      before=ACCEPT),
    _t("answer", _s("method"),      _s("card_type"),   before=ACCEPT, conditions="asks_card_type"),
    _t("answer", _s("method"),      _s("terminal"),    before=ACCEPT),
    _t("answer", _s("card_type"),   _s("terminal"),    before=ACCEPT),
    _t("answer", _s("terminal"),    _s("records"),     before=ACCEPT),
    _t("answer", _s("records"),     _s("received"),    before=ACCEPT),
    _t("answer", _s("received"),    _s("cycle"),       before=ACCEPT, conditions="asks_cycle"),
    _t("answer", _s("received"),    _s("bank"),        before=ACCEPT, conditions="asks_bank"),
    _t("answer", _s("received"),    _s("account"),     before=ACCEPT),
    _t("answer", _s("cycle"),       _s("bank"),        before=ACCEPT, conditions="asks_bank"),
    _t("answer", _s("cycle"),       _s("account"),     before=ACCEPT),
    _t("answer", _s("bank"),        _s("account"),     before=ACCEPT),
    # The acquirer only where it decides who to contact (a wallet payment); receipt keys only
    # where the bot's own trace needs them (keys first): flows.questions.walked.
    _t("answer", _s("account"),     _s("acquirer"),    before=ACCEPT, conditions="asks_acquirer"),
    _t("answer", _s("account"),     _s("reference"),   before=ACCEPT, conditions="asks_keys"),
    _t("answer", _s("account"),     REVIEWING,         before=ACCEPT),
    _t("answer", _s("acquirer"),    _s("reference"),   before=ACCEPT, conditions="asks_keys"),
    _t("answer", _s("acquirer"),    REVIEWING,         before=ACCEPT),
    _t("answer", _s("reference"),   _s("terminal_id"), before=ACCEPT),
    _t("answer", _s("terminal_id"), _s("merchant_id"), before=ACCEPT),
    _t("answer", _s("merchant_id"), _s("voucher"),     before=ACCEPT),
    _t("answer", _s("voucher"),     REVIEWING,         before=ACCEPT),
    _t("answer", _s("order_no"),    REVIEWING,         before=ACCEPT),
    _t("answer", _s("slip_type"),   CHOOSING_NEXT,     before=ACCEPT),
    # Back: while changing a field it returns to the review (or the slip's confirmation).
    _t("back", _s("bank"),        SUMMARIZED, conditions="climbing", before="stop_climbing"),
    _t("back", SLIP_STATES,      CONFIRMING_SLIP, conditions="correcting_slip"),
    _t("back", ASKING,           REVIEWING, conditions="revising"),
    # Otherwise to the previous question this merchant was shown (never one a story, a slip or
    # an answer settled); from the first one shown, to the story's confirmation if the enquiry
    # began with one, else to the welcome.
    _t("back", _s("slip_type"),   CHOOSING_NEXT),
    _t("back", WALKED,           CONFIRMING_SLIP, conditions="reopens_story",
       before="reopen_story"),
    _t("back", WALKED,           IDLE, conditions="first_asked"),
    _t("back", WALKED,           CHOOSING_NEXT, before="step_back"),
    # From the review: the last question shown; when none was, the last one on the way.
    *[_t("back", REVIEWING, question.state, conditions="is_last_shown") for question in QUESTIONS],
    _t("back", REVIEWING,         _s("voucher"), conditions="walks_keys"),
    _t("back", REVIEWING,         _s("acquirer"), conditions="asks_acquirer"),
    _t("back", REVIEWING,         _s("account")),
    # The slip's "is this right?": confirm, correct one value, or set it all aside.
    # A story told at the welcome: declined, nothing of it is kept (consent was never given).
    _t("confirm_slip", CONFIRMING_SLIP, CHOOSING_NEXT, before="apply_slip"),
    _t("discard_slip", CONFIRMING_SLIP, IDLE, conditions="fresh_story", before="drop_story"),
    _t("back",         CONFIRMING_SLIP, IDLE, conditions="fresh_story", before="drop_story"),
    _t("discard_slip", CONFIRMING_SLIP, CHOOSING_NEXT, before="drop_slip"),
    _t("back",         CONFIRMING_SLIP, CHOOSING_NEXT, before="drop_slip"),
    *[_t("correct_slip", CONFIRMING_SLIP, question.state, conditions="is_chosen_slip_field")
      for question in QUESTIONS],
    _t("correct_slip", CONFIRMING_SLIP, None, after="remove_slip_value"),
    # The next question: back to the review when changing, else the first one still open.
    _t("advance", CHOOSING_NEXT, REVIEWING, conditions="revising"),
    # Back (above): the previous question shown.
    *[_t("advance", CHOOSING_NEXT, question.state, conditions="is_previous_asked")
      for question in QUESTIONS],
    # Keys first after a story or a slip too: the date and amount known, the reference next.
    _t("advance", CHOOSING_NEXT, _s("reference"), conditions="keys_next"),
    *[_t("advance", CHOOSING_NEXT, question.state, conditions="is_first_open")
      for question in QUESTIONS],
    _t("advance", CHOOSING_NEXT, REVIEWING),
    # Review: change one field, or confirm (a required answer that became needed is asked first).
    *[_t("change", REVIEWING, question.state, conditions="is_chosen_field")
      for question in QUESTIONS],
    _t("confirm", REVIEWING, _s("card_type"), conditions="card_type_missing"),
    _t("confirm", REVIEWING, _s("cycle"), conditions="cycle_missing"),
    _t("confirm", REVIEWING, _s("bank"), conditions="bank_missing"),
    _t("confirm", REVIEWING, SUMMARIZED, before="open_case"),
    # The acquirer's records answered a lookup (run by the service off the event loop): found
    # settles the records question (never asked then), not found asks to check the reference
    # number, unavailable changes nothing (the merchant is asked, as without a lookup).
    _t("lookup", LOOKUP_SOURCES, None, conditions="lookup_unavailable", before="take_lookup"),
    _t("lookup", LOOKUP_SOURCES, _s("reference"), conditions="lookup_not_found",
       before="take_lookup"),
    _t("lookup", ASKING, CHOOSING_NEXT, conditions="lookup_answers_current",
       before="take_lookup"),
    _t("lookup", REVIEWING, None, before="take_lookup", after="announce"),
    # Elsewhere the question just asked stays open (its buttons are still on screen).
    _t("lookup", LOOKUP_SOURCES, None, before="take_lookup"),
    _t("lookup", [IDLE, SUMMARIZED], None),  # the conversation moved on: nothing to say
    _t("keys_ok", _s("reference"), REVIEWING, conditions="revising"),
    _t("keys_ok", _s("reference"), CHOOSING_NEXT, before="only_open_next"),
    # After the summary.
    _t("arrived",       SUMMARIZED, None, after="note_arrived"),
    # At the rung "call your bank's hotline", a bank never asked is asked first (its hotline).
    _t("still_missing", SUMMARIZED, _s("bank"), conditions="bank_rung_needs_bank",
       before="climb_to_bank"),
    _t("still_missing", SUMMARIZED, None, after="recheck"),
    _t("follow_up",     SUMMARIZED, None, after="schedule_check_back"),
    # Anytime.
    _t("help",         "*", None, after="show_help"),
    _t("set_language", "*", None, after="switch_language"),
    _t("ask_person",   "*", None, after="record_person_request"),
]
# fmt: on


def build_machine() -> Machine:
    """The one machine for the intake; models are attached per update and detached after."""
    return Machine(
        model=None,
        states=[{"name": name, "on_enter": "announce"} for name in STATES],
        transitions=TRANSITIONS,
        initial=IDLE,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
    )
