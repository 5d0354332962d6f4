"""The editor's forms: they parse what was typed (minutes, lines, choices) into the document's
terms and nothing more; what a routine may hold is decided by ``document.load`` through
``routines.services``."""

import copy

from django import forms
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext_lazy as _

from runbook.forms import LimitsSaidForm
from runbook.scenarios import Role

from . import document, texts, words

MINUTES_ERRORS = {"invalid": _("Ange tiden i hela minuter.")}
# A bound that keeps a typed number from overflowing the document (a year, in minutes).
MINUTES_MAX = 366 * 24 * 60


def _minutes(label, *, required):
    return forms.IntegerField(
        label=label,
        required=required,
        max_value=MINUTES_MAX,
        error_messages={**MINUTES_ERRORS, "required": _("Ange tiden i hela minuter."), "max_value": _("Högst ett år.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def seconds(minutes):
    return None if minutes is None else minutes * 60


def minutes(seconds_):
    return None if seconds_ is None else seconds_ // 60 if seconds_ % 60 == 0 else round(seconds_ / 60, 1)


ROLE_CHOICES = [("", _("Välj roll"))] + [(r, Role.label(r)) for r in Role.ALL]
DUE_ON_CHOICES = list(words.DUE_ON_LABELS.items())
DONE_BY_CHOICES = [("" if k is None else k, v) for k, v in words.DONE_BY_LABELS.items()]
CHANNEL_CHOICES = [(c, words.CHANNEL_LABELS[c]) for c in document.CHANNELS]
RECIPIENT_CHOICES = list(words.RECIPIENT_LABELS.items())
TRANSITION_CHOICES = list(words.TRANSITION_LABELS.items())
ONLY_AFTER_CHOICES = [("" if k is None else k, v) for k, v in words.ONLY_AFTER_LABELS.items()]
# A step is done by a message to a receiver outside the app; e-mail and SMS go to people.
DELIVERY_CHANNEL_CHOICES = [("", _("Nej, en person bockar av"))] + [
    (c, words.CHANNEL_LABELS[c]) for c in ("vardgivare_skane", "driftinfo", "telephony")
]
DELIVERY_ACTION_CHOICES = list(words.DELIVERY_ACTION_LABELS.items())
ANSWER_CHOICES = [("nej", _("Nej")), ("ja", _("Ja"))]


class DurationsForm(LimitsSaidForm):
    label = forms.CharField(
        label=_("Versionens namn"),
        help_text=_("Som rutindokumentet skriver det, t.ex. 2025-1. Tomt: versionens nummer."),
        required=False,
        max_length=document.LABEL_MAX,
    )
    reserve_routine_after = _minutes(_("Reservrutin utan prognos efter (minuter)"), required=True)
    ack_timeout = _minutes(_("Tid att kvittera eskaleringen (minuter)"), required=True)


class StepForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False)
    instruction = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    role = forms.ChoiceField(label=_("Roll"), choices=ROLE_CHOICES, required=False)
    due_on = forms.ChoiceField(label=_("Blir en uppgift"), choices=DUE_ON_CHOICES)
    within = _minutes(_("Ska vara gjort inom (minuter, tomt: ingen gräns)"), required=False)
    done_by = forms.ChoiceField(label=_("Görs av"), choices=DONE_BY_CHOICES, required=False)
    only_after = forms.ChoiceField(label=_("Görs"), choices=ONLY_AFTER_CHOICES, required=False)
    delivered_channel = forms.ChoiceField(
        label=_("Klar när appen levererat ett meddelande"), choices=DELIVERY_CHANNEL_CHOICES, required=False
    )
    delivered_actions = forms.MultipleChoiceField(
        label=_("Meddelandet som gör steget"),
        choices=DELIVERY_ACTION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    ongoing = forms.BooleanField(label=_("Pågår så länge störningen pågår (avslutas av appen)"), required=False)

    # Fields shown under "Mer om steget" (a <details>), the rest always.
    MORE = ("only_after", "delivered_channel", "delivered_actions", "ongoing")

    def __init__(self, *args, step=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A delivery the page does not offer (an e-mail, from a file) is offered for this step,
        # so saving the scenario keeps it rather than dropping it unseen.
        delivered = (step or {}).get("delivered_by")
        if isinstance(delivered, dict):
            channel = self.fields["delivered_channel"]
            if delivered.get("channel") and delivered["channel"] not in dict(channel.choices):
                channel.choices = [
                    *channel.choices,
                    (delivered["channel"], words.label(words.CHANNEL_LABELS, delivered["channel"])),
                ]
            actions = self.fields["delivered_actions"]
            for action in delivered.get("actions") or []:
                if isinstance(action, str) and action not in dict(actions.choices):
                    actions.choices = [*actions.choices, (action, action)]

    def delivered_by(self):
        """The step's ``delivered_by`` as typed: a channel and its actions, or None."""
        channel = self.cleaned_data["delivered_channel"]
        if not channel:
            return None
        return {"channel": channel, "actions": list(self.cleaned_data["delivered_actions"])}


def step_initial(step):
    delivered = step.get("delivered_by") if isinstance(step.get("delivered_by"), dict) else {}
    return {
        "key": step.get("key"),
        "instruction": step.get("instruction"),
        "role": step.get("role"),
        "due_on": step.get("due_on"),
        "within": minutes(step.get("within")),
        "done_by": step.get("done_by") or "",
        "only_after": step.get("only_after") or "",
        "delivered_channel": delivered.get("channel") or "",
        "delivered_actions": list(delivered.get("actions") or []),
        "ongoing": bool(step.get("ongoing")),
    }


class ScenarioForm(forms.Form):
    title = forms.CharField(label=_("Rubrik"), required=False)
    routine_text = forms.CharField(label=_("Rutinens text"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    during = forms.CharField(
        label=words.SCRIPT_LABELS["during"],
        help_text=_("En replik per rad."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reserve = forms.CharField(
        label=words.SCRIPT_LABELS["reserve"],
        help_text=_("En replik per rad. Tomt: inga."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    restored = forms.CharField(
        label=words.SCRIPT_LABELS["restored"],
        help_text=_("En replik per rad. Tomt: inga."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    transitions = forms.MultipleChoiceField(
        label=_("Scenariot använder"),
        help_text=_("Anmäla, åtgärda, avsluta, makulera och byta scenario finns i alla scenarier."),
        choices=TRANSITION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class NewScenarioForm(LimitsSaidForm):
    """Nytt scenario: its heading and text, and its first step (a scenario needs one)."""

    title = forms.CharField(label=_("Rubrik"), required=False, max_length=500)
    key = forms.CharField(
        label=_("Nyckel (valfri)"),
        help_text=_("Stabilt namn i filer och rapporter, a–z, 0–9, _ och -. Tomt: görs av rubriken."),
        required=False,
        max_length=200,
    )
    routine_text = forms.CharField(label=_("Rutinens text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    role = forms.ChoiceField(label=_("Första stegets roll"), choices=ROLE_CHOICES, required=False)
    instruction = forms.CharField(
        label=_("Första stegets text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class QuestionForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(label=_("Fråga"), required=False)


class NewQuestionForm(LimitsSaidForm):
    text = forms.CharField(label=_("Fråga"), required=False, max_length=500)
    key = forms.CharField(
        label=_("Nyckel (valfri)"),
        help_text=_("a–z, 0–9, _ och -. Tomt: görs av frågan."),
        required=False,
        max_length=200,
    )


class ProposalForm(forms.Form):
    """One proposal: this answer to this question proposes this scenario."""

    question = forms.ChoiceField(label=_("Fråga"), required=False)
    answer = forms.ChoiceField(label=_("Svar"), choices=ANSWER_CHOICES)
    scenario = forms.ChoiceField(label=_("Föreslår scenariot"), required=False)

    def __init__(self, *args, questions=(), scenarios=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The choices are what the draft holds; that a proposal names both is the validator's.
        self.fields["question"].choices = [("", _("Välj fråga"))] + list(questions)
        self.fields["scenario"].choices = [("", _("Välj scenario"))] + list(scenarios)

    def proposal(self):
        data = self.cleaned_data
        return {"question": data["question"], "answer": data["answer"] == "ja", "scenario": data["scenario"]}


class NewRoutineForm(forms.Form):
    # Lengths and what a key may hold are the service's to refuse (routines.services).
    name = forms.CharField(
        label=_("Rutinens namn"), help_text=_("T.ex. Driftstörningsrutin Journalia."), required=False
    )
    system = forms.CharField(label=_("IT-system"), help_text=_("T.ex. Journalia."), required=False)
    key = forms.CharField(
        label=_("Nyckel"),
        help_text=_("Kort och stabilt namn i filer och adresser, a–z, 0–9, - och _ (t.ex. journalia)."),
        required=False,
    )


EVENT_CHOICES = [(name, words.NOTICE_EVENT_LABELS[name]) for name in document.NOTICE_EVENTS]
# A channel and what it is asked, in one choice: only what the channel has a message for
# (routines.document.NOTICE_ACTIONS), grouped by channel.
SENDS_CHOICES = [("", _("Välj kanal och meddelande"))] + [
    (words.CHANNEL_LABELS[c], [(f"{c}:{a}", words.MESSAGE_ACTION_LABELS[a]) for a in actions])
    for c, actions in document.NOTICE_ACTIONS.items()
]
NOTICE_ONLY_AFTER_CHOICES = [("", _("Alltid"))] + [
    (f"{c}:{a}", format_lazy(_("Bara medan {name} är ute"), name=words.notice_name_lazy(c, a)))
    for c, actions in document.NOTICE_ACTIONS.items()
    for a in actions
    if c not in ("email", "sms")
]


class NoticeForm(forms.Form):
    """One notice rule: the event and scenarios that set it off, the channel and what is asked,
    to whom, and the rule's words. What fits together is the validator's to say."""

    event = forms.ChoiceField(label=_("Händelse"), choices=EVENT_CHOICES)
    scenarios = forms.MultipleChoiceField(
        label=_("Gäller scenarierna"), required=False, widget=forms.CheckboxSelectMultiple
    )
    sends = forms.ChoiceField(
        label=_("Kanal och meddelande"),
        help_text=_("Varje kanal med de meddelanden den har."),
        choices=SENDS_CHOICES,
        required=False,
    )
    recipients = forms.MultipleChoiceField(
        label=_("Mottagare (e-post och SMS)"),
        choices=RECIPIENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    when = forms.CharField(label=_("När (text på regelsidan)"), required=False, max_length=500)
    why = forms.CharField(
        label=_("Varför (rutinens ord)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    only_after = forms.ChoiceField(label=_("Skickas"), choices=NOTICE_ONLY_AFTER_CHOICES, required=False)
    unless_out = forms.BooleanField(label=_("Inte om något redan är ute på kanalen"), required=False)
    ack_link = forms.BooleanField(label=_("Med länk eller kod för att kvittera (SA)"), required=False)

    MORE = ("only_after", "unless_out", "ack_link")

    def __init__(self, *args, scenarios=(), notice=None, **kwargs):
        notice = notice or {}
        super().__init__(*args, **kwargs)
        self.fields["scenarios"].choices = list(scenarios)
        # An event the page does not offer (from a file) is offered for this rule, so saving
        # the page keeps it rather than dropping it unseen.
        if notice and document.notice_event(notice) is None:
            self.fields["event"].choices = [
                *self.fields["event"].choices,
                ("own", format_lazy(_("Som regeln säger ({when})"), when=words.text(notice.get("when")))),
            ]
        self.own_event = (notice.get("event_kind"), copy.deepcopy(notice.get("match")))

    def notice(self, before=None):
        """The rule as typed: ``before`` (the rule as it was, or None for a new one) changed."""
        typed = self.cleaned_data
        notice = copy.deepcopy(before) if before else {}
        if typed["event"] == "own":
            notice["event_kind"], notice["match"] = self.own_event
        else:
            kind, match = document.NOTICE_EVENTS[typed["event"]]
            notice["event_kind"], notice["match"] = kind, copy.deepcopy(match)
        # Kept in the rule's own order (then the routine's), whatever order the boxes came in.
        old = [k for k in notice.get("scenarios") or [] if k in typed["scenarios"]]
        notice["scenarios"] = old + [
            k for k, _t in self.fields["scenarios"].choices if k in typed["scenarios"] and k not in old
        ]
        notice["channel"], _sep, notice["action"] = typed["sends"].partition(":")
        before_recipients = list(notice.get("recipients") or [])
        ticked = typed["recipients"]
        notice["recipients"] = [r for r in before_recipients if r in ticked] + [
            r for r in ticked if r not in before_recipients
        ]
        channel, _sep, action = typed["only_after"].partition(":")
        notice["only_after"] = {"channel": channel, "action": action} if typed["only_after"] else None
        notice["unless_out"] = typed["unless_out"]
        notice["ack_link"] = typed["ack_link"]
        notice["when"] = typed["when"].strip()
        notice["why"] = typed["why"].strip()
        return notice


def notice_initial(notice):
    only_after = notice.get("only_after") if isinstance(notice.get("only_after"), dict) else None
    return {
        "event": document.notice_event(notice) or "own",
        "scenarios": list(notice.get("scenarios") or []),
        "sends": f"{notice.get('channel')}:{notice.get('action')}",
        "recipients": list(notice.get("recipients") or []),
        "when": notice.get("when"),
        "why": notice.get("why"),
        "only_after": f"{only_after['channel']}:{only_after['action']}" if only_after else "",
        "unless_out": bool(notice.get("unless_out")),
        "ack_link": bool(notice.get("ack_link")),
    }


def _text_field(label, *, lines_, help_text=""):
    widget = forms.Textarea(attrs={"rows": lines_}) if lines_ > 1 else forms.TextInput()
    # Bounded here only against abuse; what a text may be is the service's to say.
    return forms.CharField(
        label=label, help_text=help_text, required=False, max_length=texts.TEXT_MAX, widget=widget, strip=False
    )


def _typed(value):
    """A text as typed: the browser's line ends made plain, no blank at either end."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _typed_lines(value):
    return [line.strip() for line in _typed(value).split("\n") if line.strip()]


MULTILINE = {"body", "facts", "ack", "off_duty", "not_acknowledged", "after_reserve"}


class MessagesForm(forms.Form):
    """The words each notice sends (``messages`` of the document): one field per text, named
    by where it sits; every channel and action has its fields, used by a rule or not."""

    def __init__(self, data=None, *, messages, scenarios, used=frozenset()):
        super().__init__(data)
        self.scenarios = scenarios  # [(key, title)], in the routine's order
        self.used = used  # the (channel, action) pairs the rules send
        f = self.fields
        f["system"] = _text_field(words.MESSAGE_PART_LABELS["system"], lines_=1)
        f["reference"] = _text_field(
            words.MESSAGE_PART_LABELS["reference"],
            lines_=1,
            help_text=_("Början på störningens referens, t.ex. HJM-SESAM (blir HJM-SESAM-12)."),
        )
        f["reserve_notice"] = _text_field(words.MESSAGE_PART_LABELS["reserve_notice"], lines_=2)
        for i, (_key, title) in enumerate(scenarios):
            f[f"s{i}-affected"] = _text_field(
                format_lazy("{title}: {what}", title=title, what=words.MESSAGE_PART_LABELS["affected"]), lines_=2
            )
            f[f"s{i}-lavin"] = _text_field(
                format_lazy("{title}: {what}", title=title, what=words.MESSAGE_PART_LABELS["lavin"]), lines_=3
            )
        for name in texts.EMAIL_PARTS:
            f[f"email-{name}"] = _text_field(words.MESSAGE_PART_LABELS[name], lines_=4 if name in MULTILINE else 1)
        for name in texts.SMS_ENDINGS:
            f[f"sms-{name}"] = _text_field(
                words.MESSAGE_PART_LABELS[name], lines_=2, help_text=_("En per rad, längst först.")
            )
        f["sms-bare"] = forms.BooleanField(label=_("Prova sist utan slut (bara vad som hänt)"), required=False)
        for (channel, action), names in texts.FIELDS.items():
            for name in names:
                sms_list = channel == "sms" and name in texts.SMS_LISTS
                f[f"c-{channel}-{action}-{name}"] = _text_field(
                    words.MESSAGE_FIELD_LABELS[name],
                    lines_=3 if sms_list or name in MULTILINE else 1,
                    help_text=_("En per rad, längst först: den första som ryms i ett SMS skickas.") if sms_list else "",
                )
        if data is None:
            self.initial = self.initial_from(messages)

    def initial_from(self, messages):
        messages = messages if isinstance(messages, dict) else {}
        initial = {name: messages.get(name) or "" for name in ("system", "reference", "reserve_notice")}
        own = messages.get("scenarios") or {}
        for i, (key, _title) in enumerate(self.scenarios):
            for name in texts.SCENARIO_TEXTS:
                initial[f"s{i}-{name}"] = (own.get(key) or {}).get(name) or ""
        email = messages.get("email") or {}
        for name in texts.EMAIL_PARTS:
            initial[f"email-{name}"] = email.get(name) or ""
        sms = messages.get("sms") or {}
        for name in texts.SMS_ENDINGS:
            initial[f"sms-{name}"] = "\n".join(e for e in sms.get(name) or [] if e)
        initial["sms-bare"] = "" in (sms.get("without_code") or [])
        channels = messages.get("channels") or {}
        for (channel, action), names in texts.FIELDS.items():
            found = (channels.get(channel) or {}).get(action) or {}
            for name in names:
                value = found.get(name) or ""
                initial[f"c-{channel}-{action}-{name}"] = "\n".join(value) if isinstance(value, list) else value
        return initial

    def groups(self):
        """The fields in the page's order, in groups: (heading, [bound fields])."""
        yield _("Allmänt"), [self[n] for n in ("system", "reference", "reserve_notice")]
        yield _("Per scenario"), [self[f"s{i}-{n}"] for i in range(len(self.scenarios)) for n in texts.SCENARIO_TEXTS]
        yield _("E-postens ram"), [self[f"email-{n}"] for n in texts.EMAIL_PARTS]
        yield _("SMS:ens slut"), [self[f"sms-{n}"] for n in texts.SMS_ENDINGS] + [self["sms-bare"]]

    def notices(self):
        """Each channel and action: (name, [bound fields], used by a rule?)."""
        for (channel, action), names in texts.FIELDS.items():
            yield (
                words.notice_name(channel, action),
                [self[f"c-{channel}-{action}-{n}"] for n in names],
                (channel, action) in self.used,
            )

    def messages(self, before):
        """``before`` (the document's ``messages``) with the texts as typed: an empty text stays
        empty (and is refused, naming its place), except where a text may be left out."""
        typed = self.cleaned_data
        messages = dict(before) if isinstance(before, dict) else {}
        for name in ("system", "reference", "reserve_notice"):
            messages[name] = _typed(typed[name])
        if not messages["reserve_notice"]:
            del messages["reserve_notice"]
        own = {}
        for i, (key, _title) in enumerate(self.scenarios):
            found = {n: _typed(typed[f"s{i}-{n}"]) for n in texts.SCENARIO_TEXTS}
            found = {n: v for n, v in found.items() if v}
            if found:
                own[key] = found
        messages["scenarios"] = own
        # A part left empty is left out: the validator asks for it once a notice uses it.
        email = {n: _typed(typed[f"email-{n}"]) for n in texts.EMAIL_PARTS}
        messages["email"] = {n: v for n, v in email.items() if v}
        if not messages["email"]:
            del messages["email"]
        sms = {n: _typed_lines(typed[f"sms-{n}"]) for n in texts.SMS_ENDINGS}
        if typed["sms-bare"]:
            sms["without_code"].append("")
        if any(sms.values()):
            messages["sms"] = sms
        else:
            messages.pop("sms", None)
        channels = {}
        for (channel, action), names in texts.FIELDS.items():
            found = {}
            for n in names:
                value = typed[f"c-{channel}-{action}-{n}"]
                found[n] = _typed_lines(value) if channel == "sms" and n in texts.SMS_LISTS else _typed(value)
            if (channel, action, "after_reserve") in texts.OPTIONAL and not found.get("after_reserve"):
                found.pop("after_reserve", None)
            if any(found.values()):
                channels.setdefault(channel, {})[action] = found
        messages["channels"] = channels
        return messages


class PublishForm(forms.Form):
    reason = forms.CharField(
        label=_("Varför ändras rutinen?"),
        help_text=_("Kort, högst 500 tecken. Sparas med versionen."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def new_key(typed, made_from, taken, *, longest, prefix):
    """A key for a new scenario or question: the one typed (the validator judges it), or one
    made from its text ("Journalia går inte att nå" -> ``journalia_gar_inte_att_na``), not taken."""
    if typed.strip():
        return typed.strip()
    base = slugify(made_from or "").replace("-", "_")[: longest - 4] or prefix
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
