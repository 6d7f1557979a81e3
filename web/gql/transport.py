"""GraphQL over HTTP at ``/api/graphql``: parsing (cached), the limits, validation, running
an operation (the lean executor, else graphql-core), the answer and its errors; the GraphiQL
console page. Reader processes (:mod:`soniquebay.web.readers`) run the same
:func:`run_operation`."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import OperationDefinitionNode
from graphql.language import ast as gql_ast
from graphql.pyutils import is_awaitable

from soniquebay.errors import InvalidInput, SoniqueBayError
from soniquebay.web import access, keys
from soniquebay.web.graphql_lean import Fallback, LeanExecutor
from soniquebay.web.graphql_limits import check_limits
from soniquebay.web.jsonbody import encoded_response, json_response
from soniquebay.web.loaders import Loaders
from soniquebay.web.render import render
from soniquebay.web.validation import parse_json

MAX_TOKENS = 20_000


# Apps send the same few query texts again and again: their parse and their validation (1.6 ms
# for the albums-with-tracks query, half as long as running it) do not depend on the variables.
@functools.lru_cache(maxsize=256)
def _parse(query: str) -> gql_ast.DocumentNode | GraphQLError:
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return error


@functools.lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, query: str, introspection: bool) -> tuple[GraphQLError, ...]:
    document = _parse(query)
    assert not isinstance(document, GraphQLError)
    rules = list(specified_rules)
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(validate(schema, document, rules))


def _error_json(error: GraphQLError) -> dict[str, Any]:
    out = error.formatted
    original = error.original_error
    if isinstance(original, SoniqueBayError):
        out.setdefault("extensions", {})["code"] = original.code
        if original.details:
            out["extensions"]["details"] = original.details
    return out


def _operation(document: gql_ast.DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((op for op in operations if op.name and op.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _answer(payload: dict[str, Any], status: int = 200) -> web.Response:
    # A non-UTF-8 path echoed back to a worker survives as \udcXX escapes (jsonbody.dumps).
    return json_response(payload, status=status)


def _refused(errors: list[GraphQLError]) -> web.Response:
    return _answer({"data": None, "errors": [_error_json(e) for e in errors]}, status=400)


async def handle_graphql(request: web.Request) -> web.Response:
    from soniquebay.web.auth import demand

    body = parse_json(
        await request.read(), 'the request body must be JSON: {"query": ..., "variables": ...}'
    )
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise InvalidInput('a GraphQL request needs a "query" string', details={"field": "query"})
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise InvalidInput('"variables" must be an object', details={"field": "variables"})
    try:
        json.dumps(variables)  # nesting a JSON decoder accepted may still be too deep to walk
    except RecursionError:
        raise InvalidInput(
            "the variables are nested too deeply", details={"field": "variables"}
        ) from None
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise InvalidInput('"operationName" must be a string', details={"field": "operationName"})
    app = request.app
    settings = app[keys.SETTINGS]
    schema = app[keys.SCHEMA]
    document = _parse(body["query"])
    if isinstance(document, GraphQLError):
        return _refused([document])
    operation = _operation(document, operation_name)
    if operation is not None and operation.operation == OperationType.MUTATION:
        for selection in operation.selection_set.selections:  # each mutation its own scope
            name = getattr(getattr(selection, "name", None), "value", "")
            demand(request, access.MUTATIONS.get(name, access.ADMIN))
    # The limits first: a hostile query is refused before graphql-core's validation, which is
    # quadratic in repeated fields. Then a query a reader can answer is validated and run
    # there, off the event loop; the rest is validated here.
    errors = check_limits(
        document, settings.graphql_max_depth, settings.graphql_max_cost, variables
    )
    if errors:
        return _refused(errors)
    readers = app.get(keys.READERS)
    if readers is not None and readers.takes(operation):
        answered = await readers.execute(
            body["query"], variables, operation_name, settings.graphql_introspection
        )
        if answered is not None:
            status, encoded = answered
            return encoded_response(encoded, status=status)
    errors = list(_validate(schema, body["query"], settings.graphql_introspection))
    if errors:
        return _refused(errors)
    context = {"request": request, "app": app, "loaders": Loaders(app[keys.DB])}
    payload, status = await run_operation(
        schema, document, operation, operation_name, variables, context
    )
    return _answer(payload, status)


async def run_operation(
    schema: GraphQLSchema,
    document: gql_ast.DocumentNode,
    operation: OperationDefinitionNode | None,
    operation_name: str | None,
    variables: dict[str, Any],
    context: dict[str, Any],
) -> tuple[dict[str, Any], int]:
    """Execute a validated operation: the lean executor when it can, else graphql-core.
    Returns the answer and its HTTP status. Runs in the web process and in its readers."""
    if operation is not None:
        try:
            data = await LeanExecutor(schema, document, operation, variables, context).run()
        except Fallback:
            context["loaders"] = Loaders(context["app"][keys.DB])
        else:
            return {"data": data}, 200
    result = execute(
        schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=context,
    )
    if is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_error_json(e) for e in result.errors]
    status = 200
    if result.errors and result.data is None:  # a server-side failure keeps its status (507...)
        status = max(getattr(e.original_error, "status", 400) for e in result.errors)
        status = status if status >= 500 else 400
    return payload, status


async def graphiql_page(request: web.Request) -> web.Response:
    """A small query console for people: no CDN, no external script."""
    schema = request.app[keys.SCHEMA]
    roots = []
    for root in ("Query", "Mutation"):
        root_fields = schema.type_map[root].fields
        roots.append(
            (
                root,
                [
                    (
                        name,
                        ", ".join(f"{arg}: {a.type}" for arg, a in field.args.items()),
                        str(field.type),
                        field.description or "",
                    )
                    for name, field in root_fields.items()
                ],
            )
        )
    principal = request.get("principal")
    return render(request, "graphiql.html", roots=roots, csrf=principal.csrf if principal else "")
