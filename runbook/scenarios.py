"""Driftstörningsrutin Sesam LMN, section 3 ("Genomförande"), written once as data.

Each scenario quotes the routine; each step names the role that does it, the routine's own
instruction, the incident state in which it becomes due and how soon it should be done.
An incident's tasks are made from these steps.

The routine the app runs on is versioned data (``routines``): a version's document is read
into these ``Scenario``/``Step`` objects. The four scenarios below are version 1 as the code
defined it, kept as the reference the data migration's frozen copy is tested against
(tests/test_routine_versions.py); changing them changes no incident. A change to the routine
is a new published version.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

ROUTINE_VERSION = "2024-1"


class Role:
    """The five roles of routine section 2; each is a group of the same name."""

    KUNDSERVICE = "kundservice"
    SYSTEMANSVARIG = "systemansvarig"
    VERKSAMHETSANSVARIG = "verksamhetsansvarig"
    VERKSAMHETSSPECIALIST = "verksamhetsspecialist"
    TELEFONIANSVARIG = "telefoniansvarig"

    ALL = (KUNDSERVICE, SYSTEMANSVARIG, VERKSAMHETSANSVARIG, VERKSAMHETSSPECIALIST, TELEFONIANSVARIG)
    LABELS = {
        KUNDSERVICE: _("Kundservice"),
        SYSTEMANSVARIG: _("Systemansvarig"),
        VERKSAMHETSANSVARIG: _("Verksamhetsansvarig"),
        VERKSAMHETSSPECIALIST: _("Verksamhetsspecialist"),
        TELEFONIANSVARIG: _("Telefoniansvarig"),
    }

    @classmethod
    def label(cls, role):
        return cls.LABELS.get(role, role)


# When a step becomes due: the incident state whose arrival makes it a task.
ON_REPORT = "reported"
ON_ESCALATED = "escalated"
ON_ACKNOWLEDGED = "acknowledged"
ON_AWAITING_IT = "awaiting_it"
ON_RESERVE_ROUTINE = "reserve_routine"
ON_RESOLVED = "resolved"
# Steps made due by a durable timer (incidents.models.Timer) rather than by a state.
ON_SA_FALLBACK = "timer:sa_fallback"  # SA off duty at escalation, or escalation not acknowledged
ON_PROGNOSIS_PASSED = "timer:prognosis_passed"  # the prognosis time passed, incident still live


# The transitions of the state machine a scenario may leave out; which it uses is the
# scenario's data (``Scenario.transitions``). Reporting, resolving, closing, cancelling and
# reclassifying are in every scenario.
ESCALATE = "escalate"  # escalation to SA: escalate, acknowledge, SA's fallback clock
RESERVE_ROUTINE = "reserve_routine"  # the reserve routine: its clock and activation by hand
AWAIT_IT = "await_it"  # waiting for instructions from IT
OPTIONAL_TRANSITIONS = (ESCALATE, RESERVE_ROUTINE, AWAIT_IT)


# An action that is not a person's click: the last urgent order marked entered in Sesam LMN
# (or none taken at all) does the step of entering them.
ALL_ORDERS_ENTERED = "all_orders_entered"


@dataclass(frozen=True)
class Step:
    key: str
    role: str
    # The routine's words (quoted where the routine says it in so many words).
    instruction: str
    due_on: str = ON_REPORT
    # How soon after becoming due the step should be done; None means no stated limit.
    within: timedelta | None = None
    # A transition or action whose firing does this step (e.g. escalating *is* reporting to SA).
    done_by: str | None = None
    # Only made when the incident has passed through this state (e.g. reserve routine).
    only_after: str | None = None
    # A message the app sends that does this step, as (channel, actions): when one is
    # delivered the system marks the step done, saying what was delivered.
    delivered_by: tuple[str, tuple[str, ...]] | None = None
    # A duty for as long as the disruption lasts (inform callers): it ends, done by the
    # system, when the incident is resolved or cancelled.
    ongoing: bool = False


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    # The routine's description of the situation, quoted.
    routine_text: str
    steps: tuple[Step, ...]
    # What Kundservice tells prescribers who call while the disruption lasts.
    caller_script: tuple[str, ...] = field(default=())
    # What Kundservice tells them instead once the reserve routine applies.
    caller_script_reserve: tuple[str, ...] = field(default=())
    # What Kundservice tells them once service is restored ("Driften återställd").
    caller_script_restored: tuple[str, ...] = field(default=())
    # Which of OPTIONAL_TRANSITIONS the scenario uses.
    transitions: tuple[str, ...] = field(default=())

    def uses(self, transition):
        return transition in self.transitions

    def step(self, key):
        return next(s for s in self.steps if s.key == key)


# Section 1: duties that run through every scenario where Hjälpmedel acts.
_HELP_IT_TROUBLESHOOT = Step(
    key="help_it_troubleshoot",
    role=Role.VERKSAMHETSSPECIALIST,
    instruction=_(
        "Bistå Region Skånes IT-avdelning vid felsökning och rapportering och tillse att IT "
        "har den information som de behöver: sammanställ vad förskrivarna rapporterar "
        "(vilka funktioner, felmeddelanden, hur många, sedan när) och lämna det till SA."
    ),
    due_on=ON_REPORT,
    within=timedelta(hours=1),
    ongoing=True,
)

_CALLER_REPORT_TO_30000 = _("Du kan även själv kontakta Servicedesk på 30 000 och felanmäla direkt.")

FULL_IT_OUTAGE = Scenario(
    key="full_it_outage",
    title=_("Fullskaligt IT-haveri i Region Skåne"),
    routine_text=_(
        "Då Region Skånes IT upplever ett fullskaligt driftstopp på grund av infrastruktur, "
        "yttre eller inre påverkan eller annan anledning, förutsätts Sesam LMN inte kunna nås "
        "av vare sig förskrivare eller Kundservice. Hjälpmedel avvaktar då instruktioner från "
        "regionala IT-funktionen men utför inga planerade åtgärder."
    ),
    steps=(
        Step(
            key="await_instructions",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_(
                "Hjälpmedel avvaktar instruktioner från regionala IT-funktionen men utför inga "
                "planerade åtgärder. Markera ”Avvaktar IT”."
            ),
            due_on=ON_REPORT,
            done_by="await_it",
        ),
        Step(
            key="record_it_instructions",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_(
                "För in de instruktioner som kommer från regionala IT-funktionen som anteckningar "
                "i tidslinjen, och markera ”Driften återställd” när IT meddelar det."
            ),
            due_on=ON_AWAITING_IT,
            ongoing=True,
        ),
    ),
    transitions=(AWAIT_IT,),
    caller_script=(
        _("Region Skåne har ett fullskaligt IT-haveri. Sesam LMN kan inte nås av någon just nu."),
        _("Information och prognos publiceras av Region Skånes IT på driftinfo."),
        _("Vi avvaktar instruktioner från regionala IT-funktionen. Vänligen avvakta."),
    ),
    # Not "IT har meddelat": the app knows only that someone recorded the restoration.
    caller_script_restored=(_("Driften är återställd: Sesam LMN går att nå igen."),),
)

SESAM_UNREACHABLE = Scenario(
    key="sesam_unreachable",
    title=_("Sesam LMN-server oåtkomlig för samtliga användare"),
    routine_text=_(
        "Om Sesam LMN inte går att nå för någon användare men IT-miljön i Region Skåne i "
        "övrigt är opåverkad skall Hjälpmedel omedelbart anmäla detta till systemansvarig på "
        "den regionala IT-funktionen. Om systemansvarig (SA) inte är i tjänst kontaktas "
        "enhetschef för SA samt en incident skapas hos Servicedesk (30 000 eller i Ritz). "
        "Kontakt ska även tas med systemleverantör. Kundservice informerar inringande "
        "förskrivare om driftstörning och hänvisar till regionala driftinfo för mer information "
        "och prognos. Förskrivare ombeds avvakta. Efter 4 timmar och om prognos fortfarande "
        "saknas, aktiveras reservrutin för akuta förskrivningar. Information publiceras på "
        "Vårdgivare Skåne om att reservrutin gäller samt att kontakt tas med Kundservice."
    ),
    steps=(
        Step(
            key="report_to_sa",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_(
                "Hjälpmedel ska omedelbart anmäla detta till systemansvarig på den regionala "
                "IT-funktionen (”Eskalera till systemansvarig”)."
            ),
            due_on=ON_REPORT,
            within=timedelta(minutes=5),
            done_by="escalate",
        ),
        Step(
            key="inform_callers",
            role=Role.KUNDSERVICE,
            instruction=_(
                "Kundservice informerar inringande förskrivare om driftstörning och hänvisar till "
                "regionala driftinfo för mer information och prognos. Förskrivare ombeds avvakta."
            ),
            due_on=ON_REPORT,
            ongoing=True,
        ),
        _HELP_IT_TROUBLESHOOT,
        Step(
            key="servicedesk_incident",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_(
                "Skapa incident hos Servicedesk (30 000 eller Ritz). Rutinen: ”Om systemansvarig "
                "(SA) inte är i tjänst kontaktas enhetschef för SA samt en incident skapas hos "
                "Servicedesk (30 000 eller i Ritz).” Om enhetschefen har fått e-post eller måste ringas "
                "står i tidslinjen."
            ),
            due_on=ON_SA_FALLBACK,
            within=timedelta(minutes=15),
        ),
        Step(
            key="renew_prognosis",
            role=Role.SYSTEMANSVARIG,
            instruction=_(
                "Prognosen har passerat och Sesam LMN är fortfarande inte åter: ange en ny "
                "prognos eller ”Ingen prognos”. En passerad prognos räknas som saknad."
            ),
            due_on=ON_PROGNOSIS_PASSED,
            within=timedelta(minutes=15),
            done_by="record_prognosis",
        ),
        Step(
            key="contact_vendor",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_("Kontakt ska även tas med systemleverantör."),
            due_on=ON_ESCALATED,
            within=timedelta(minutes=30),
        ),
        Step(
            key="give_prognosis",
            role=Role.SYSTEMANSVARIG,
            instruction=_(
                "Ange prognos för när Sesam LMN åter kan nås, eller ”Ingen prognos”. Efter 4 "
                "timmar och om prognos fortfarande saknas, aktiveras reservrutin för akuta "
                "förskrivningar."
            ),
            due_on=ON_ACKNOWLEDGED,
            within=timedelta(hours=1),
            done_by="record_prognosis",
        ),
        Step(
            key="publish_reserve_notice",
            role=Role.VERKSAMHETSANSVARIG,
            instruction=_(
                "Information publiceras på Vårdgivare Skåne om att reservrutin gäller samt att "
                "kontakt tas med Kundservice."
            ),
            due_on=ON_RESERVE_ROUTINE,
            within=timedelta(minutes=15),
            delivered_by=("vardgivare_skane", ("publish",)),
        ),
        Step(
            key="take_urgent_orders",
            role=Role.KUNDSERVICE,
            instruction=_(
                "Reservrutin för akuta förskrivningar gäller: ta emot akuta förskrivningar enligt "
                "”Reservrutin förskrivning Sesam LMN” (Beställningsblankett LMN) och registrera "
                "varje beställning här."
            ),
            due_on=ON_RESERVE_ROUTINE,
            ongoing=True,
        ),
        Step(
            key="enter_reserve_orders",
            role=Role.KUNDSERVICE,
            instruction=_(
                "Driften är återställd: för in de akuta förskrivningar som togs under reservrutinen "
                "i Sesam LMN och markera dem som inlagda."
            ),
            due_on=ON_RESOLVED,
            only_after=ON_RESERVE_ROUTINE,
            done_by=ALL_ORDERS_ENTERED,
        ),
    ),
    transitions=(ESCALATE, RESERVE_ROUTINE),
    caller_script=(
        # "anmäls", not "är anmält": the script is read from the report on, before the escalation.
        _("Sesam LMN går just nu inte att nå för någon användare. Felet anmäls till Region Skånes IT."),
        _("Mer information och prognos finns på regionala driftinfo."),
        _("Vänligen avvakta och försök igen senare."),
        _CALLER_REPORT_TO_30000,
    ),
    caller_script_reserve=(
        _("Sesam LMN går fortfarande inte att nå. Reservrutin för akuta förskrivningar gäller."),
        _(
            "Akuta förskrivningar tas emot av Kundservice nu, enligt ”Reservrutin förskrivning Sesam LMN” "
            "(Beställningsblankett LMN)."
        ),
        _("Förskrivningar som inte är akuta görs i Sesam LMN när det går att nå igen."),
    ),
    caller_script_restored=(
        _("Driften är återställd: Sesam LMN går att nå igen och förskrivningar görs där som vanligt."),
    ),
)

KUNDSERVICE_LINK_LOSS = Scenario(
    key="kundservice_link_loss",
    title=_("Kundservice förlorar kontakt med Sesam LMN"),
    routine_text=_(
        "Då enbart kundservicefunktionen förlorar kontakt med Sesam LMN på grund av en lokal "
        "driftstörning (avgrävd kabel etc.) kopplar Kundservice upp sig via tjänstemobiler i den "
        "mån det är möjligt. Den regionala IT-funktionen ombeds lägga upp särskild information om "
        "detta på driftinfo samt lavinmeddelande läggs in på telefonslingan."
    ),
    steps=(
        Step(
            key="connect_service_mobiles",
            role=Role.KUNDSERVICE,
            instruction=_("Kundservice kopplar upp sig via tjänstemobiler i den mån det är möjligt."),
            due_on=ON_REPORT,
            within=timedelta(minutes=15),
        ),
        Step(
            key="request_driftinfo",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_("Den regionala IT-funktionen ombeds lägga upp särskild information om detta på driftinfo."),
            due_on=ON_REPORT,
            within=timedelta(minutes=30),
            delivered_by=("driftinfo", ("publish", "update")),
        ),
        Step(
            key="lavin_on",
            role=Role.TELEFONIANSVARIG,
            instruction=_("Lavinmeddelande läggs in på telefonslingan."),
            due_on=ON_REPORT,
            within=timedelta(minutes=15),
            delivered_by=("telephony", ("on",)),
        ),
        _HELP_IT_TROUBLESHOOT,
        Step(
            key="lavin_off",
            role=Role.TELEFONIANSVARIG,
            instruction=_("Driften är återställd: ta bort lavinmeddelandet från telefonslingan."),
            due_on=ON_RESOLVED,
            delivered_by=("telephony", ("off",)),
        ),
    ),
    caller_script=(
        _("Kundservice har just nu inte kontakt med Sesam LMN på grund av en lokal störning."),
        _("Sesam LMN fungerar för förskrivare; vi arbetar via tjänstemobiler och kan därför svara långsammare."),
        _("Mer information finns på regionala driftinfo."),
        _CALLER_REPORT_TO_30000,
    ),
    caller_script_restored=(_("Driften är återställd: Kundservice har kontakt med Sesam LMN igen."),),
)

TELEPHONY_FAULT = Scenario(
    key="telephony_fault",
    title=_("Störningar i telefonin"),
    routine_text=_(
        "Vid störning i telefonfunktionen informeras inringande via lavinmeddelande och den "
        "regionala IT-funktionen informerar via driftinfo."
    ),
    steps=(
        Step(
            key="lavin_on",
            role=Role.TELEFONIANSVARIG,
            instruction=_("Inringande informeras via lavinmeddelande: lägg in det på telefonslingan."),
            due_on=ON_REPORT,
            within=timedelta(minutes=15),
            delivered_by=("telephony", ("on",)),
        ),
        Step(
            key="request_driftinfo",
            role=Role.VERKSAMHETSSPECIALIST,
            instruction=_("Den regionala IT-funktionen informerar via driftinfo: be IT publicera."),
            due_on=ON_REPORT,
            within=timedelta(minutes=30),
            delivered_by=("driftinfo", ("publish", "update")),
        ),
        Step(
            key="lavin_off",
            role=Role.TELEFONIANSVARIG,
            instruction=_("Driften är återställd: ta bort lavinmeddelandet från telefonslingan."),
            due_on=ON_RESOLVED,
            delivered_by=("telephony", ("off",)),
        ),
    ),
    caller_script=(
        _("Vi har störningar i telefonin och kan vara svåra att nå."),
        _("Mer information finns på regionala driftinfo."),
    ),
    caller_script_restored=(_("Driften är återställd: telefonin fungerar igen."),),
)

SCENARIOS = {s.key: s for s in (FULL_IT_OUTAGE, SESAM_UNREACHABLE, KUNDSERVICE_LINK_LOSS, TELEPHONY_FAULT)}
SCENARIO_CHOICES = [(s.key, s.title) for s in SCENARIOS.values()]


def get(key):
    return SCENARIOS[key]


@dataclass(frozen=True)
class Triage:
    """Kundservice's four questions when a prescriber calls (None: don't know)."""

    kundservice_reaches_sesam: bool | None
    prescribers_reach_sesam: bool | None
    rest_of_it_up: bool | None
    phones_work: bool | None

    QUESTIONS = (
        ("kundservice_reaches_sesam", _("Kan Kundservice nå Sesam LMN?")),
        ("prescribers_reach_sesam", _("Kan förskrivarna nå Sesam LMN?")),
        ("rest_of_it_up", _("Fungerar Region Skånes IT i övrigt?")),
        ("phones_work", _("Fungerar telefonerna?")),
    )

    # A "no" to the question points to the scenario; the first that applies wins.
    RULES = (
        ("rest_of_it_up", FULL_IT_OUTAGE.key),
        ("prescribers_reach_sesam", SESAM_UNREACHABLE.key),
        ("kundservice_reaches_sesam", KUNDSERVICE_LINK_LOSS.key),
        ("phones_work", TELEPHONY_FAULT.key),
    )

    def proposal(self):
        """The scenario the answers point to, or None when they point nowhere."""
        return next((key for name, key in self.RULES if getattr(self, name) is False), None)
