"""The report page's quick guide: four answers propose a scenario (routine section 3)."""

import re

import pytest
from django.urls import reverse

from incidents.models import Incident

QUESTIONS = ("kundservice_reaches_sesam", "prescribers_reach_sesam", "rest_of_it_up", "phones_work")
TITLES = {
    "full_it_outage": "Fullskaligt IT-haveri i Region Skåne",
    "sesam_unreachable": "Sesam LMN-server oåtkomlig för samtliga användare",
    "kundservice_link_loss": "Kundservice förlorar kontakt med Sesam LMN",
    "telephony_fault": "Störningar i telefonin",
}
NO_PROPOSAL = "Svaren pekar inte ut något scenario ännu."

# (Kundservice reaches Sesam, prescribers reach Sesam, rest of IT up, phones work) -> scenario
CASES = [
    (("no", "no", "no", "no"), "full_it_outage"),
    (("unknown", "unknown", "no", "yes"), "full_it_outage"),
    (("no", "no", "yes", "yes"), "sesam_unreachable"),
    (("yes", "no", "unknown", "no"), "sesam_unreachable"),
    (("no", "yes", "yes", "yes"), "kundservice_link_loss"),
    (("no", "unknown", "yes", "no"), "kundservice_link_loss"),
    (("yes", "yes", "yes", "no"), "telephony_fault"),
    (("unknown", "unknown", "unknown", "no"), "telephony_fault"),
    (("yes", "yes", "yes", "yes"), None),
    (("unknown", "unknown", "unknown", "unknown"), None),
]


def _answers(values):
    return dict(zip(QUESTIONS, values, strict=False))


def _checked_scenario(html):
    checked = re.findall(r'<input type="radio" name="scenario" value="([a-z_]+)"[^>]*\bchecked\b', html)
    return checked[0] if checked else None


@pytest.mark.parametrize("answers, scenario", CASES)
def test_foresla_scenario_without_javascript_proposes_and_saves_nothing(ks, client_as, answers, scenario):
    response = client_as(ks).post(
        reverse("incidents:report"),
        {**_answers(answers), "summary": "Förskrivare ringer", "action": "propose"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    if scenario:
        assert f"Förslag utifrån svaren: <strong>{TITLES[scenario]}</strong>" in html
        assert _checked_scenario(html) == scenario
    else:
        assert NO_PROPOSAL in html
        assert _checked_scenario(html) is None
    # The answers and the summary are kept, so the agent only has to confirm.
    for name, value in _answers(answers).items():
        assert re.search(rf'name="{name}" value="{value}"[^>]*\bchecked\b', html), name
    assert "Förskrivare ringer" in html
    assert not Incident.objects.exists()


@pytest.mark.parametrize("answers, scenario", CASES)
def test_htmx_answer_returns_only_the_proposal(ks, client_as, answers, scenario):
    response = client_as(ks).post(reverse("incidents:report"), _answers(answers), HTTP_HX_REQUEST="true")
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith('<div id="proposal">')
    assert "<html" not in html and "<form" not in html
    if scenario:
        assert f"Förslag utifrån svaren: <strong>{TITLES[scenario]}</strong>" in html
        assert _checked_scenario(html) == scenario
    else:
        assert NO_PROPOSAL in html
    assert not Incident.objects.exists()


def test_the_agent_may_report_another_scenario_than_the_proposal(ks, client_as):
    response = client_as(ks).post(
        reverse("incidents:report"),
        {
            **_answers(("yes", "yes", "yes", "no")),
            "scenario": "kundservice_link_loss",
            "summary": "Kabel avgrävd utanför huset",
            "action": "report",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.scenario == "kundservice_link_loss"
    reported = incident.events.get(kind="reported")
    assert reported.data["triage"]["phones_work"] == "no"
