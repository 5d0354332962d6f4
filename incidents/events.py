"""The timeline events other apps react to, named once: their kinds, the data keys they are
told apart by, and the values those keys take. The services and flows that write an event
and the rules that match it (``notifications/rules.py``) import these names; a misspelling
is then an ImportError, not a notice that is silently never sent.
"""

from .models import TimelineEvent

Kind = TimelineEvent.Kind

# A transition event (Kind.TRANSITION): data[NAME] is the transition, data["from"]/["to"]
# the states.
NAME = "name"


class Transition:
    """The incident's transitions (``Incident.<name>()``), as events and permissions name them."""

    ESCALATE = "escalate"
    ACKNOWLEDGE = "acknowledge"
    AWAIT_IT = "await_it"
    ACTIVATE_RESERVE_ROUTINE = "activate_reserve_routine"
    RESOLVE = "resolve"
    CLOSE = "close"
    CANCEL = "cancel"


# A deadline or the system acting on its own (Kind.TIMER): data[TIMER] says which.
TIMER = "timer"
SA_FALLBACK = "sa_fallback"  # SA off duty or not acknowledging: SA's enhetschef is told
PROGNOSIS_PASSED = "prognosis_passed"  # the prognosis passed, the incident still live
RESERVE_ROUTINE = "reserve_routine"  # 4 hours without a prognosis: reserve routine starts
RESERVE_ROUTINE_HELD = "reserve_routine_held"  # ... unless a valid prognosis holds it
FAILING = "failing"  # a deadline that keeps failing to fire
# An SA_FALLBACK event's data[REASON]: why SA was passed over.
REASON = "reason"
OFF_DUTY = "off_duty"
NOT_ACKNOWLEDGED = "ack_timeout"


# A drill's injection (Kind.INJECTED, ``drills.inject``): data[INJECTION] says which, and
# data[CAUSED] the timeline events it set off (ids), data[CAUSED_TASKS] the tasks it made.
INJECTION = "injection"
CAUSED = "caused"
CAUSED_TASKS = "tasks"


class Injection:
    """What a drill's leader can make go wrong (``Inspel``)."""

    SA_NO_ANSWER = "sa_no_answer"  # SA svarar inte: SA's fallback now, as at the ack deadline
    PROGNOSIS_PASSES = "prognosis_passes"  # prognosen passerar: now, as at its time
    TELEPHONY_DOWN = "telephony_down"  # telefonin går ner: reclassified to the telephony scenario
    CALLER = "caller"  # ett samtal från en förskrivare: a caller report

    ALL = (SA_NO_ANSWER, PROGNOSIS_PASSES, TELEPHONY_DOWN, CALLER)
