"""Property-based run of schemathesis against the live OpenAPI document of /api/v1/.

A real server (pytest-django's ``live_server``) is asked what the document allows, and what
it does not: no request may produce a 5xx, and every response must match the document
(status code, content type, body schema); data that breaks the document must be refused
with a 4xx. Bounded: a few examples per operation and mode, well under a minute.
"""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from runbook import services as token_services

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 8
BUDGET_SECONDS = 60


@pytest.mark.django_db(transaction=True)
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_document(live_server, make_user, open_incident):
    started = time.monotonic()
    va = make_user("verksamhetsansvarig")
    _token, key = token_services.issue_token(va, "schemathesis")
    incident = open_incident()
    task = incident.tasks.first()
    headers = {"Authorization": f"Bearer {key}"}

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7

    calls = []

    def run(operation, mode, path_parameters=None):
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        def check(case):
            calls.append(case.operation.label)
            case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=10)

        check()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)
            # Also against a real incident and task, so that more than 404s are exercised.
            names = {p.name for p in operation.path_parameters}
            if "incident_id" in names and mode is GenerationMode.POSITIVE:
                known = {"incident_id": incident.pk}
                if "task_id" in names:
                    known["task_id"] = task.pk
                run(operation, mode, known)
    assert len(calls) > 50
    assert time.monotonic() - started < BUDGET_SECONDS
