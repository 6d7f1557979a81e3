"""A lean executor for read queries: level by level, not field by field.

graphql-core completes every field of every object on its own (a resolve info, a path, an
awaitable check, a completion call each): 50 albums with ten tracks each are some 2,500 field
completions and about 20 ms of Python. Our schema's objects are plain dicts whose scalar fields
are their keys, so this executor takes each field once per *level*: all albums' ``title`` in one
list comprehension, every album's ``tracks`` resolved together (one loader batch), then every
track of every album completed together.

It answers only what it can answer exactly as graphql-core would: a query (never a mutation)
over object types, with fragments, aliases and ``@skip``/``@include``. Anything else — an
interface or union to resolve, introspection, ``@defer``/``@stream``, a resolver that raises,
a null where the schema says non-null, a value a scalar must coerce — raises :class:`Fallback`,
and the caller runs graphql-core's executor instead, which reports errors with their paths.
Reads have no side effects, so answering the same query twice is only slower.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLIncludeDirective,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLString,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.pyutils import is_awaitable

from soniquebay.library.sql import rows_as_dicts

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)


class Fallback(Exception):
    """This query is not one the lean executor answers exactly; use graphql-core's."""


def _plain(type_: Any, values: list[Any]) -> bool:
    """Would graphql-core's built-in scalar serialise every one of these values to itself?
    (Checked with C-level set/map/min/max: this runs on every scalar field of every level.)"""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if type_ is GraphQLString or type_ is GraphQLID:
        return kinds <= {str}
    if type_ is GraphQLBoolean:
        return kinds <= {bool}
    if type_ is GraphQLInt:
        if not kinds:
            return True
        if kinds != {int}:
            return False
        present = [v for v in values if v is not None]
        return INT_MIN <= min(present) and max(present) <= INT_MAX
    if type_ is GraphQLFloat:
        if not kinds:
            return True
        return kinds == {float} and all(map(math.isfinite, (v for v in values if v is not None)))
    return False


class LeanExecutor:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        context: Any,
    ):
        if operation.operation != OperationType.QUERY:
            raise Fallback("only queries")
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            raise Fallback("variables graphql-core will report on")
        self.schema = schema
        self.operation = operation
        self.variables = coerced
        self.context = context
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    async def run(self) -> dict[str, Any]:
        query_type = self.schema.query_type
        assert query_type is not None
        (data,) = await self._objects(query_type, [None], [self.operation.selection_set])
        return data

    # ------------------------------------------------------------ field collection

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name == "skip":
                values = get_directive_values(GraphQLSkipDirective, node, self.variables)
                if values and values["if"]:
                    return False
            elif name == "include":
                values = get_directive_values(GraphQLIncludeDirective, node, self.variables)
                if values and not values["if"]:
                    return False
            else:
                raise Fallback(f"directive @{name}")
        return True

    def _applies(self, condition: Any, runtime_type: GraphQLObjectType) -> bool:
        if condition is None or condition.name.value == runtime_type.name:
            return True
        abstract = self.schema.get_type(condition.name.value)
        return abstract is not None and self.schema.is_sub_type(abstract, runtime_type)  # type: ignore[arg-type]

    def _collect(
        self, runtime_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._walk(runtime_type, selection_set, fields, visited)
        return fields

    def _walk(
        self,
        runtime_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        # A method, not a closure calling itself: that closure is a reference cycle, garbage
        # only the collector frees, and three of them per request made it run far more often.
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, runtime_type):
                    self._walk(runtime_type, selection.selection_set, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if getattr(selection, "arguments", None):
                    raise Fallback("fragment arguments")
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition, runtime_type):
                    self._walk(runtime_type, fragment.selection_set, fields, visited)

    # ------------------------------------------------------------ execution

    async def _objects(
        self,
        object_type: GraphQLObjectType,
        objects: list[Any],
        selection_sets: list[SelectionSetNode],
    ) -> list[dict[str, Any]]:
        """Complete a selection on many objects of one type: each field once for all of them."""
        fields = self._collect(object_type, selection_sets)
        resolved: list[tuple[str, list[FieldNode], Any, list[Any]]] = []
        pending: list[tuple[list[Any], int, Any]] = []
        plain_objects: bool | None = None  # all dicts? worked out once, for the first key read
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                resolved.append((key, nodes, None, [object_type.name] * len(objects)))
                continue
            field = object_type.fields.get(name)
            if field is None:  # __schema, __type: introspection
                raise Fallback("introspection")
            if field.resolve is None:
                if plain_objects is None:
                    plain_objects = set(map(type, objects)) <= {dict}
                if not plain_objects:
                    raise Fallback("not a plain object")
                values = [obj.get(name) for obj in objects]
            else:
                info = GraphQLResolveInfo(
                    name,
                    nodes,
                    field.type,
                    object_type,
                    None,  # type: ignore[arg-type]  # no resolver of ours reads the path
                    self.schema,
                    self.fragments,
                    None,
                    self.operation,
                    self.variables,  # type: ignore[arg-type]
                    self.context,
                    is_awaitable,
                    None,
                    None,  # type: ignore[arg-type]
                )
                try:
                    args = get_argument_values(field, nodes[0], self.variables)
                    values = [field.resolve(obj, info, **args) for obj in objects]
                except Exception as error:
                    raise Fallback("a resolver raised") from error
                for i, value in enumerate(values):
                    if is_awaitable(value):
                        pending.append((values, i, value))
            resolved.append((key, nodes, field.type, values))
        if pending:
            await self._settle(pending)
        keys, columns = [], []
        for key, nodes, type_, values in resolved:
            if type_ is not None:
                values = await self._complete(type_, values, nodes)
            keys.append(key)
            columns.append(values)
        if not columns:
            return [{} for _ in objects]
        return rows_as_dicts(tuple(keys))(zip(*columns, strict=True))

    @staticmethod
    async def _settle(pending: list[tuple[list[Any], int, Any]]) -> None:
        """Put the awaited results in place. Futures (what loaders give) were all asked for
        already, so awaiting them one by one waits for the batches once; a coroutine is only
        started when awaited, so those are gathered, or their loads would go one by one."""
        if all(map(asyncio.isfuture, (p[2] for p in pending))):
            try:
                for values, i, future in pending:
                    values[i] = await future
            except Exception as error:
                for _, _, future in pending:  # seen, so asyncio does not log them as lost
                    if future.done() and not future.cancelled():
                        future.exception()
                raise Fallback("a resolver raised") from error
            return
        results = await asyncio.gather(*(p[2] for p in pending), return_exceptions=True)
        for (values, i, _), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                raise Fallback("a resolver raised") from result
            values[i] = result

    async def _complete(self, type_: Any, values: list[Any], nodes: list[FieldNode]) -> list[Any]:
        """Complete the values of one field on many objects; all lists flattened into one level."""
        if isinstance(type_, GraphQLNonNull):
            if any(v is None for v in values):
                raise Fallback("null in a non-null place: graphql-core propagates it")
            return await self._complete(type_.of_type, values, nodes)
        if isinstance(type_, GraphQLList):
            items: list[Any] = []
            for value in values:
                if value is not None:
                    if isinstance(value, (str, bytes, dict)):
                        raise Fallback("not a list")
                    items.extend(value)
            completed = iter(await self._complete(type_.of_type, items, nodes))
            return [
                None if value is None else [next(completed) for _ in range(len(value))]
                for value in values
            ]
        if is_leaf_type(type_):
            if _plain(type_, values):
                return values
            try:
                return [None if v is None else type_.serialize(v) for v in values]
            except Exception as error:
                raise Fallback("a value to coerce") from error
        if not isinstance(type_, GraphQLObjectType) or type_.is_type_of is not None:
            raise Fallback("an abstract type to resolve")
        present = [v for v in values if v is not None]
        if not set(map(type, present)) <= {dict}:
            raise Fallback("not a plain object")
        selections = [n.selection_set for n in nodes if n.selection_set]
        done = iter(await self._objects(type_, present, selections))
        return [None if v is None else next(done) for v in values]
