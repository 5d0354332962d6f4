"""A fuzz test over every form and query parameter of the HTML side (as schemathesis does for
the API): whatever a person or a script types, no page answers with a 5xx."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import services

# Values that have broken pages before, and values like them; plus any text at all.
EDGES = [
    "",
    "0",
    "-1",
    "9" * 25,
    "1e309",
    "NaN",
    "0001-01-01",
    "0001-01-01T00:00",
    "9999-12-31",
    "9999-12-31T23:59",
    "2026-02-30",
    "2026-13-45T25:61",
    "\x00",
    "\ud7ff",
    "{",
    '{"a": ',
    "%",
    "'; DROP TABLE x; --",
    "<script>",
    "a" * 5000,
    "19121212-1212",
    "yes",
    "at",
    "none",
    "sesam_unreachable",
    "diabetes",
    "reservrutin-direkt",
    "personnummer",
]
VALUE = st.one_of(st.sampled_from(EDGES), st.text(max_size=300))
# Tried in every field one at a time before the random combinations.
SWEEP = ["0001-01-01", "9999-12-31", "0001-01-01T00:00", "9999-12-31T23:59", "9" * 25, "\x00", "a" * 5000]

# Valid values beside the one being fuzzed, so that a bad value reaches the service and the
# database, not only the form.
BASE = {
    "report": {
        "kundservice_reaches_sesam": "yes",
        "prescribers_reach_sesam": "no",
        "rest_of_it_up": "yes",
        "phones_work": "yes",
        "scenario": "telephony_fault",
        "summary": "Fuzz",
        "action": "report",
    },
    "transition:cancel": {"reason": "Fuzz"},
    "transition:close": {"what_happened": "Fuzz"},
    "prognosis": {"kind": "at"},
    "note": {"text": "Fuzz"},
    "caller_report": {"functions": "Fuzz", "prescribers": "1"},
    "it_contact": {"servicedesk_ref": "F-1"},
    "reclassify": {"scenario": "telephony_fault"},
    "reserve_order": {"reference": "LMN-1", "product_area": "diabetes", "prescriber_unit": "VC"},
    "login": {"username": "fuzz", "password": "fuzz"},
}
PAGE_FORMS = {
    "report": [
        "kundservice_reaches_sesam",
        "prescribers_reach_sesam",
        "rest_of_it_up",
        "phones_work",
        "scenario",
        "summary",
        "began_at",
        "action",
        "bekrafta",
    ],
    "transition:escalate": ["note"],
    "transition:cancel": ["reason"],
    "transition:close": ["note", "what_happened", "deviations", "actions"],
    "prognosis": ["kind", "expected_at", "note"],
    "note": ["text", "bekrafta"],
    "caller_report": ["functions", "error_message", "prescribers", "since", "bekrafta"],
    "it_contact": ["servicedesk_ref", "vendor_contact"],
    "reclassify": ["scenario", "note"],
    "reserve_order": ["reference", "product_area", "prescriber_unit"],
    "tokens": ["name"],
    "login": ["username", "password"],
    "set_language": ["language", "next"],
}
QUERIES = {
    "incidents:live": ["sida"],
    "review:history": ["scenario", "fran", "till", "status", "reservrutin", "q", "sortering", "sida"],
    "review:history_csv": ["scenario", "fran", "till", "status", "reservrutin", "q", "sortering"],
    "review:figures": ["fran", "till"],
    "review:figures_csv": ["fran", "till"],
    "review:incident_report": ["ladda-ner"],
    "incidents:detail": ["x"],
}

FUZZ = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(incident_in, everyone, ks, settings):
    settings.OPEN_INCIDENT_LIMIT = 0
    live = incident_in("sesam_unreachable", "reserve_routine")
    services.log_caller_report(ks, live.pk, functions="Sparar inte")
    client = Client(raise_request_exception=False)
    client.force_login(everyone, backend="runbook.auth.ModelBackend")
    return live, client


def _url(name, incident):
    if name == "tokens":
        return reverse("tokens")
    if name in ("login", "set_language"):
        return reverse(name)
    if name == "report":
        return reverse("incidents:report")
    if name.startswith("transition:"):
        return reverse("incidents:transition", args=[incident.pk, name.split(":")[1]])
    return reverse(f"incidents:{name}", args=[incident.pk])


def _data(draw_values, fields):
    return {field: value for field, value in zip(fields, draw_values, strict=False) if value is not None}


@pytest.mark.parametrize("form", sorted(PAGE_FORMS))
def test_no_form_answers_with_a_5xx_whatever_is_typed(world, form):
    incident, client = world
    fields = PAGE_FORMS[form]
    url = _url(form, incident)
    for field in fields:
        for value in SWEEP:
            response = client.post(url, {**BASE.get(form, {}), field: value})
            assert response.status_code < 500, (url, field, value, response.status_code)
        # Whatever was stored breaks no page for anyone.
        for page in (reverse("incidents:live"), reverse("incidents:detail", args=[incident.pk]), "/api/v1/incidents"):
            assert client.get(page).status_code < 500, (url, field, page)

    @FUZZ
    @given(st.lists(st.one_of(st.none(), VALUE), min_size=len(fields), max_size=len(fields)))
    def post(values):
        response = client.post(url, {**BASE.get(form, {}), **_data(values, fields)})
        assert response.status_code < 500, (url, values, response.status_code)

    post()


@pytest.mark.parametrize("page", sorted(QUERIES))
def test_no_page_answers_with_a_5xx_whatever_is_in_its_query(world, page):
    incident, client = world
    fields = QUERIES[page]
    args = [incident.pk] if page in ("review:incident_report", "incidents:detail") else []
    url = reverse(page, args=args)
    for field in fields:
        for value in SWEEP:
            response = client.get(url, {field: value})
            if response.streaming:
                b"".join(response.streaming_content)
            assert response.status_code < 500, (url, field, value, response.status_code)

    @FUZZ
    @given(st.lists(st.one_of(st.none(), VALUE), min_size=len(fields), max_size=len(fields)))
    def get(values):
        response = client.get(url, _data(values, fields))
        if response.streaming:
            b"".join(response.streaming_content)
        assert response.status_code < 500, (url, values, response.status_code)

    get()
