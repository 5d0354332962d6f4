"""Which event sends what: the routine's outgoing messages per scenario, in one table.

Read top to bottom it follows routine section 3. Each rule names the timeline event that sets
it off, the scenarios it applies to, the channel, what is asked of the receiver and who gets
it. ``only_after`` makes a follow-up (withdraw, update, take off) conditional on the first
message having been written for the same incident. The table is shown to
Verksamhetsansvarig on /meddelanden/regler/.

Nothing here is sent directly: ``services.on_timeline_event`` writes outbox rows from it in
the transaction of the event.

The rules an incident follows are those of its routine version (``rules_of(version)``, made
from the version's ``notices``); ``RULES`` below is version 1 as the code defined it, which
the migration's frozen copy is tested against.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from incidents.events import NAME, PROGNOSIS_PASSED, SA_FALLBACK, TIMER, Kind, Transition
from runbook.scenarios import (
    FULL_IT_OUTAGE,
    KUNDSERVICE_LINK_LOSS,
    SCENARIOS,
    SESAM_UNREACHABLE,
    TELEPHONY_FAULT,
    Role,
)

from .models import Channel

ALL_SCENARIOS = tuple(SCENARIOS)
# Scenarios in which Hjälpmedel itself asks for driftinfo and informs callers.
HJALPMEDEL_ACTS = (SESAM_UNREACHABLE.key, KUNDSERVICE_LINK_LOSS.key, TELEPHONY_FAULT.key)
SESAM_ONLY = (SESAM_UNREACHABLE.key,)

# Recipient groups of e-mail and SMS (see recipients.py; SMS reaches contacts' phones only).
SA = "sa"  # users in group systemansvarig with an e-mail, and active Contact(kind=systemansvarig)
SA_MANAGER = "sa_manager"  # active Contact(kind=sa_manager): enhetschef för SA
SUBSCRIBERS = "subscribers"  # active Subscription rows


@dataclass(frozen=True)
class Rule:
    key: str
    # The timeline event: its kind and what its data must hold (a tuple means any of).
    event_kind: str
    match: dict
    scenarios: tuple
    channel: str
    action: str
    # E-mail and SMS: recipient groups (SA, SA_MANAGER, SUBSCRIBERS or a role name).
    recipients: tuple = ()
    # Sent only while something is out on that channel for the incident: the last message
    # decided on it (channel, action) or a later one that is not a take-back (TAKE_BACK).
    only_after: tuple | None = None
    # Not sent while something is already out on this rule's own channel (never "publish" twice).
    unless_out: bool = False
    # The routine's words this rule carries out, shown on the rules page.
    why: str = ""
    ack_link: bool = False
    when_label: str = field(default="", compare=False)

    @property
    def channel_label(self):
        return Channel(self.channel).label

    @property
    def action_label(self):
        return ACTION_LABELS.get((self.channel, self.action), self.action)

    def matches(self, event, scenario):
        if event.kind != self.event_kind or scenario not in self.scenarios:
            return False
        for name, wanted in self.match.items():
            value = (event.data or {}).get(name)
            if isinstance(wanted, tuple) and value not in wanted:
                return False
            if not isinstance(wanted, tuple) and value != wanted:
                return False
        return True


# What each message asks of its receiver, for the rules page.
ACTION_LABELS = {
    (Channel.VARDGIVARE_SKANE, "publish"): _("Publicera notis om reservrutin"),
    (Channel.VARDGIVARE_SKANE, "withdraw"): _("Ta bort notisen"),
    (Channel.DRIFTINFO, "publish"): _("Be om driftinfo"),
    (Channel.DRIFTINFO, "update"): _("Be om uppdatering av driftinfo"),
    (Channel.DRIFTINFO, "end"): _("Be om driftinfo om att driften är återställd"),
    (Channel.TELEPHONY, "on"): _("Lägg in lavinmeddelande"),
    (Channel.TELEPHONY, "off"): _("Ta bort lavinmeddelande"),
    (Channel.EMAIL, "new_incident"): _("Driftstörning anmäld"),
    (Channel.EMAIL, "escalation"): _("Eskalering till systemansvarig"),
    (Channel.EMAIL, "sa_fallback"): _("Systemansvarig nås inte"),
    (Channel.EMAIL, "prognosis_passed"): _("Prognosen har passerat – ange ny prognos"),
    (Channel.EMAIL, "reserve_routine"): _("Reservrutin aktiverad"),
    (Channel.EMAIL, "resolved"): _("Driften återställd"),
    (Channel.SMS, "escalation"): _("Eskalering till systemansvarig, med kod och länk för kvittering"),
    (Channel.SMS, "sa_fallback"): _("Systemansvarig nås inte, med kod och länk för kvittering"),
}

# Actions that take back what an earlier message put out on the same channel and reference.
TAKE_BACK = frozenset({"off", "withdraw", "end"})

# Scenarios whose routine puts the lavinmeddelande on and asks IT for driftinfo at once.
LAVIN_AND_DRIFTINFO = (KUNDSERVICE_LINK_LOSS.key, TELEPHONY_FAULT.key)

ROLES_ALERTED_ON_REPORT = (Role.VERKSAMHETSSPECIALIST, Role.VERKSAMHETSANSVARIG)

RULES = (
    # --- every scenario: the report is the internal escalation (routine section 1) -------
    Rule(
        key="reported_alert_roles",
        event_kind=Kind.REPORTED,
        match={},
        scenarios=ALL_SCENARIOS,
        channel=Channel.EMAIL,
        action="new_incident",
        recipients=ROLES_ALERTED_ON_REPORT,
        when_label=_("Störning anmäld"),
        why=_("Då förskrivare anmäler till Kundservice att de upplever driftstörningar ska detta eskaleras internt."),
    ),
    # --- Kundservice förlorar kontakt med Sesam LMN / Störningar i telefonin ---------------
    Rule(
        key="reported_lavin_on",
        event_kind=Kind.REPORTED,
        match={},
        scenarios=LAVIN_AND_DRIFTINFO,
        channel=Channel.TELEPHONY,
        action="on",
        when_label=_("Störning anmäld"),
        why=_("Lavinmeddelande läggs in på telefonslingan."),
    ),
    Rule(
        key="reported_driftinfo",
        event_kind=Kind.REPORTED,
        match={},
        scenarios=LAVIN_AND_DRIFTINFO,
        channel=Channel.DRIFTINFO,
        action="publish",
        unless_out=True,
        when_label=_("Störning anmäld"),
        why=_("Den regionala IT-funktionen ombeds lägga upp särskild information om detta på driftinfo."),
    ),
    # --- a new scenario: what it prescribes is sent, what no longer applies is taken back --
    Rule(
        key="reclassified_lavin_on",
        event_kind=Kind.RECLASSIFIED,
        match={},
        scenarios=LAVIN_AND_DRIFTINFO,
        channel=Channel.TELEPHONY,
        action="on",
        when_label=_("Nytt scenario"),
        why=_("Lavinmeddelande läggs in på telefonslingan (med det nya scenariots text)."),
    ),
    Rule(
        key="reclassified_lavin_off",
        event_kind=Kind.RECLASSIFIED,
        match={},
        scenarios=(FULL_IT_OUTAGE.key, SESAM_UNREACHABLE.key),
        channel=Channel.TELEPHONY,
        action="off",
        only_after=(Channel.TELEPHONY, "on"),
        when_label=_("Nytt scenario"),
        why=_("Det nya scenariot föreskriver inget lavinmeddelande: det tas bort."),
    ),
    Rule(
        key="reclassified_driftinfo",
        event_kind=Kind.RECLASSIFIED,
        match={},
        scenarios=LAVIN_AND_DRIFTINFO,
        channel=Channel.DRIFTINFO,
        action="publish",
        unless_out=True,
        when_label=_("Nytt scenario"),
        why=_("Den regionala IT-funktionen ombeds lägga upp särskild information om detta på driftinfo."),
    ),
    Rule(
        key="reclassified_driftinfo_update",
        event_kind=Kind.RECLASSIFIED,
        match={},
        scenarios=ALL_SCENARIOS,
        channel=Channel.DRIFTINFO,
        action="update",
        only_after=(Channel.DRIFTINFO, "publish"),
        when_label=_("Nytt scenario"),
        why=_("Driftinfo beskriver störningen som den nu är klassad."),
    ),
    # --- Sesam LMN-server oåtkomlig för samtliga användare ---------------------------------
    Rule(
        key="escalate_sa",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ESCALATE},
        scenarios=SESAM_ONLY,
        channel=Channel.EMAIL,
        action="escalation",
        recipients=(SA,),
        ack_link=True,
        when_label=_("Eskalera till systemansvarig"),
        why=_("Hjälpmedel ska omedelbart anmäla detta till systemansvarig på den regionala IT-funktionen."),
    ),
    Rule(
        key="escalate_sa_sms",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ESCALATE},
        scenarios=SESAM_ONLY,
        channel=Channel.SMS,
        action="escalation",
        recipients=(SA,),
        ack_link=True,
        when_label=_("Eskalera till systemansvarig"),
        why=_("Hjälpmedel ska omedelbart anmäla detta till systemansvarig på den regionala IT-funktionen."),
    ),
    Rule(
        key="escalate_driftinfo",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ESCALATE},
        scenarios=SESAM_ONLY,
        channel=Channel.DRIFTINFO,
        action="publish",
        unless_out=True,
        when_label=_("Eskalera till systemansvarig"),
        why=_("Kundservice hänvisar till regionala driftinfo för mer information och prognos."),
    ),
    Rule(
        key="sa_fallback_manager",
        event_kind=Kind.TIMER,
        match={TIMER: SA_FALLBACK},
        scenarios=SESAM_ONLY,
        channel=Channel.EMAIL,
        action="sa_fallback",
        recipients=(SA_MANAGER,),
        when_label=_("SA ej i tjänst eller har inte kvitterat"),
        why=_(
            "Om systemansvarig (SA) inte är i tjänst kontaktas enhetschef för SA samt en incident skapas hos Servicedesk (30 000 eller i Ritz)."
        ),
    ),
    Rule(
        key="sa_fallback_manager_sms",
        event_kind=Kind.TIMER,
        match={TIMER: SA_FALLBACK},
        scenarios=SESAM_ONLY,
        channel=Channel.SMS,
        action="sa_fallback",
        recipients=(SA_MANAGER,),
        ack_link=True,
        when_label=_("SA ej i tjänst eller har inte kvitterat"),
        why=_(
            "Om systemansvarig (SA) inte är i tjänst kontaktas enhetschef för SA samt en incident skapas hos Servicedesk (30 000 eller i Ritz)."
        ),
    ),
    Rule(
        key="prognosis_driftinfo",
        event_kind=Kind.PROGNOSIS,
        match={},
        scenarios=HJALPMEDEL_ACTS,
        channel=Channel.DRIFTINFO,
        action="update",
        only_after=(Channel.DRIFTINFO, "publish"),
        when_label=_("Prognos angiven"),
        why=_("Driftinfo är platsen för mer information och prognos."),
    ),
    Rule(
        key="prognosis_passed_remind",
        event_kind=Kind.TIMER,
        match={TIMER: PROGNOSIS_PASSED},
        scenarios=HJALPMEDEL_ACTS,
        channel=Channel.EMAIL,
        action="prognosis_passed",
        recipients=(SA, Role.VERKSAMHETSSPECIALIST),
        when_label=_("Prognosen har passerat"),
        why=_("En prognos som passerat räknas som saknad; efter 4 timmar utan prognos aktiveras reservrutinen."),
    ),
    Rule(
        key="reserve_vardgivare_skane",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ACTIVATE_RESERVE_ROUTINE},
        scenarios=SESAM_ONLY,
        channel=Channel.VARDGIVARE_SKANE,
        action="publish",
        when_label=_("Reservrutin aktiverad (4-timmarstimern eller manuellt)"),
        why=_(
            "Information publiceras på Vårdgivare Skåne om att reservrutin gäller samt att kontakt tas med Kundservice."
        ),
    ),
    Rule(
        key="reserve_alert_roles",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ACTIVATE_RESERVE_ROUTINE},
        scenarios=SESAM_ONLY,
        channel=Channel.EMAIL,
        action="reserve_routine",
        recipients=(Role.KUNDSERVICE, Role.VERKSAMHETSANSVARIG, Role.VERKSAMHETSSPECIALIST, SUBSCRIBERS),
        when_label=_("Reservrutin aktiverad (4-timmarstimern eller manuellt)"),
        why=_("Efter 4 timmar och om prognos fortfarande saknas, aktiveras reservrutin för akuta förskrivningar."),
    ),
    Rule(
        key="reserve_driftinfo",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.ACTIVATE_RESERVE_ROUTINE},
        scenarios=SESAM_ONLY,
        channel=Channel.DRIFTINFO,
        action="update",
        only_after=(Channel.DRIFTINFO, "publish"),
        when_label=_("Reservrutin aktiverad (4-timmarstimern eller manuellt)"),
        why=_("Reservrutin för akuta förskrivningar gäller – kontakta Kundservice."),
    ),
    # --- the end: take back what was put out ---------------------------------------------
    Rule(
        key="end_vardgivare_skane",
        event_kind=Kind.TRANSITION,
        match={NAME: (Transition.RESOLVE, Transition.CANCEL)},
        scenarios=ALL_SCENARIOS,
        channel=Channel.VARDGIVARE_SKANE,
        action="withdraw",
        only_after=(Channel.VARDGIVARE_SKANE, "publish"),
        when_label=_("Driften återställd eller makulerad"),
        why=_("Reservrutinen gäller inte längre: notisen på Vårdgivare Skåne tas bort."),
    ),
    Rule(
        key="end_lavin_off",
        event_kind=Kind.TRANSITION,
        match={NAME: (Transition.RESOLVE, Transition.CANCEL)},
        scenarios=ALL_SCENARIOS,
        channel=Channel.TELEPHONY,
        action="off",
        only_after=(Channel.TELEPHONY, "on"),
        when_label=_("Driften återställd eller makulerad"),
        why=_("Driften är återställd: ta bort lavinmeddelandet från telefonslingan."),
    ),
    Rule(
        key="end_driftinfo",
        event_kind=Kind.TRANSITION,
        match={NAME: (Transition.RESOLVE, Transition.CANCEL)},
        scenarios=ALL_SCENARIOS,
        channel=Channel.DRIFTINFO,
        action="end",
        only_after=(Channel.DRIFTINFO, "publish"),
        when_label=_("Driften återställd eller makulerad"),
        why=_("Den regionala IT-funktionen informerar via driftinfo."),
    ),
    Rule(
        key="resolved_alert_roles",
        event_kind=Kind.TRANSITION,
        match={NAME: Transition.RESOLVE},
        scenarios=ALL_SCENARIOS,
        channel=Channel.EMAIL,
        action="resolved",
        recipients=(
            Role.KUNDSERVICE,
            Role.VERKSAMHETSANSVARIG,
            Role.VERKSAMHETSSPECIALIST,
            Role.TELEFONIANSVARIG,
            SUBSCRIBERS,
        ),
        when_label=_("Driften återställd"),
        why=_("Driften återställd: akuta förskrivningar under reservrutinen läggs in i Sesam LMN."),
    ),
)

# The 4-hour timer fires the activate_reserve_routine transition; its messages hang on that
# transition, so the timer event itself sends nothing (it would send them twice).
TIMER_NOTES = {
    "reserve_routine": _("Skickar via övergången ”Aktivera reservrutin” som timern utlöser."),
}

# Who does it by hand when a message finally fails (a task for that role).
MANUAL_FALLBACK = {
    Channel.VARDGIVARE_SKANE: (Role.VERKSAMHETSANSVARIG, _("Publicera manuellt på Vårdgivare Skåne")),
    Channel.DRIFTINFO: (Role.VERKSAMHETSSPECIALIST, _("Be regionala IT-funktionen manuellt om driftinfo")),
    Channel.TELEPHONY: (Role.TELEFONIANSVARIG, _("Ändra lavinmeddelandet manuellt på telefonslingan")),
    Channel.EMAIL: (Role.VERKSAMHETSSPECIALIST, _("Kontakta mottagaren på annat sätt")),
    Channel.SMS: (Role.VERKSAMHETSSPECIALIST, _("Ring mottagaren")),
}


def rules_for(event, scenario, version):
    """The rules of the routine ``version`` (the incident's own) that ``event`` sets off."""
    return [rule for rule in rules_of(version) if rule.matches(event, scenario)]


_made: dict[tuple, tuple[Rule, ...]] = {}


def rules_of(version) -> tuple[Rule, ...]:
    """The notice rules of a routine version (``routines.document.Loaded``), made once per
    version and process from its ``notices`` (docs/routine-format.md)."""
    key = (version.id, version.revision) if version.id is not None else ("unsaved", id(version))
    made = _made.get(key)
    if made is None:
        made = tuple(_rule(notice) for notice in version.notices)
        _made[key] = made
    return made


def _rule(notice) -> Rule:
    only_after = notice.get("only_after")
    return Rule(
        key=notice["key"],
        event_kind=notice["event_kind"],
        match=dict(notice["match"]),
        scenarios=tuple(notice["scenarios"]),
        channel=notice["channel"],
        action=notice["action"],
        recipients=tuple(notice.get("recipients", ())),
        only_after=None if only_after is None else (only_after["channel"], only_after["action"]),
        unless_out=bool(notice.get("unless_out", False)),
        why=_(notice["why"]) if notice.get("why") else "",
        ack_link=bool(notice.get("ack_link", False)),
        when_label=_(notice["when"]),
    )


def forget():
    _made.clear()
