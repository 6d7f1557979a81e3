"""Issue 9, case 14: the API fuzzed from its own descriptions — REST from the OpenAPI document,
GraphQL from its schema (schemathesis, hypothesis) — answers no request with a 500."""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

STREAMS = ("/api/events", "/api/ws")  # endless by design: a request never "ends"
FUZZ = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def openapi(api):
    document = json.loads(urllib.request.urlopen(api.url + "/api/openapi.json").read())
    return schemathesis.from_dict(document, base_url=api.url).exclude(path=list(STREAMS))


@pytest.fixture
def graphql(api):
    return schemathesis.graphql.from_url(api.url + "/api/graphql", headers=api.auth_headers())


rest_schema = schemathesis.from_pytest_fixture("openapi")
graphql_schema = schemathesis.from_pytest_fixture("graphql")


@rest_schema.parametrize()
@FUZZ
def test_rest_answers_no_request_with_a_500(case, api):
    response = case.call(headers=api.auth_headers(), timeout=10)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])


@graphql_schema.parametrize()
@settings(FUZZ, max_examples=40)
def test_graphql_answers_no_query_with_a_500(case, api):
    response = case.call(headers=api.auth_headers(), timeout=10)
    assert response.status_code < 500, (case.body, response.text[:300])
    for error in response.json().get("errors") or []:
        assert "Traceback" not in error["message"] and "apsw" not in error["message"], error
