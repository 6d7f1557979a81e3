"""Refuse expensive GraphQL before running it: a depth limit and a cost estimate.

Checked on the parsed document before graphql-core's validation, so a hostile query is refused
with nothing validated or read from the database. Cost: every field costs 1, and a list field multiplies what it
selects by its ``limit`` (or, without one, a fixed estimate: a page size at the top, what a
real artist or album holds when nested); batch mutations multiply by the number of items sent. Introspection fields are not counted (they have their own switch).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

LIST_FIELDS = {
    "tracks": 50,
    "artists": 50,
    "albums": 50,
    "scan_errors": 100,
    "track_vectors": 50,
    "vectors": 2,
    "similar_tracks": 20,
}
# Lists inside a list's items (an artist's albums, an album's tracks) count what a real one
# holds, not a page size: a browse query (artists, their albums, their tracks) must fit.
NESTED_LIST_FIELDS = {"albums": 10, "appears_on": 10, "tracks": 20, "vectors": 2}
BATCH_ARGUMENTS = ("data", "ids", "paths", "prefixes")
# What a document may hold as written, whatever it costs: graphql-core's validation compares
# selections pairwise, so 9,000 spreads of a fragment of __typename (costing nothing) held the
# event loop 1.2 s. Real queries hold tens of selections, a few spreads.
MAX_SELECTIONS = 2_000
MAX_SPREADS = 200


def _argument(field: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in field.arguments or ():
        if arg.name.value != name:
            continue
        value = arg.value
        if isinstance(value, VariableNode):
            return variables.get(value.name.value)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, ListValueNode):
            return list(value.values)
        return None
    return None


def _multiplier(field: FieldNode, variables: dict[str, Any], nested: bool) -> int:
    limit = _argument(field, "limit", variables)
    if isinstance(limit, int) and not isinstance(limit, bool):
        return max(limit, 1)
    for name in BATCH_ARGUMENTS:
        items = _argument(field, name, variables)
        if isinstance(items, list):
            return max(len(items), 1)
    name = field.name.value
    if nested and name in NESTED_LIST_FIELDS:
        return NESTED_LIST_FIELDS[name]
    return LIST_FIELDS.get(name, 1)


class _Measure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]):
        self.fragments, self.variables = fragments, variables

    def depth(self, selection_set: SelectionSetNode | None, seen: frozenset = frozenset()) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                inner = self.depth(selection.selection_set, seen)
                deepest = max(deepest, 1 + inner)
            else:
                inner_set, seen2 = self._inner(selection, seen)
                if inner_set is not None:
                    deepest = max(deepest, self.depth(inner_set, seen2))
        return deepest

    def cost(
        self,
        selection_set: SelectionSetNode | None,
        seen: frozenset = frozenset(),
        nested: bool = False,
    ) -> int:
        """``nested``: inside a list's items, where lists are relations, not pages."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                multiplier = _multiplier(selection, self.variables, nested)
                inner = self.cost(selection.selection_set, seen, nested or multiplier > 1)
                total += 1 + (multiplier * inner if inner else 0)
            else:
                inner_set, seen2 = self._inner(selection, seen)
                if inner_set is not None:
                    total += self.cost(inner_set, seen2, nested)
        return total

    def _inner(self, selection: Any, seen: frozenset) -> tuple[SelectionSetNode | None, frozenset]:
        if isinstance(selection, InlineFragmentNode):
            return selection.selection_set, seen
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = self.fragments.get(name)
            if fragment is None or name in seen:  # unknown or cyclic: other rules report it
                return None, seen
            return fragment.selection_set, seen | {name}
        return None, seen


def _written(document: DocumentNode) -> tuple[int, int]:
    """(selections, fragment spreads) as written in the document, fragments not expanded."""
    selections = spreads = 0
    stack = [d.selection_set for d in document.definitions if getattr(d, "selection_set", None)]
    while stack:
        for selection in stack.pop().selections:
            selections += 1
            if isinstance(selection, FragmentSpreadNode):
                spreads += 1
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return selections, spreads


def check_limits(
    document: DocumentNode, max_depth: int, max_cost: int, variables: dict[str, Any]
) -> list[GraphQLError]:
    """The operations of a parsed document that go past the depth or cost limit, as errors;
    a document holding more selections or fragment spreads than any real query does is refused
    before anything else."""
    selections, spreads = _written(document)
    if selections > MAX_SELECTIONS or spreads > MAX_SPREADS:
        return [
            GraphQLError(
                f"the document holds {selections} selections and {spreads} fragment spreads;"
                f" at most {MAX_SELECTIONS} and {MAX_SPREADS} are taken",
                extensions={"code": "query_too_large", "selections": selections,
                            "spreads": spreads},
            )
        ]  # fmt: skip
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measure = _Measure(fragments, variables)
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth = measure.depth(definition.selection_set)
        if depth > max_depth:
            errors.append(
                GraphQLError(
                    f"query depth {depth} exceeds the limit of {max_depth}",
                    definition,
                    extensions={"code": "query_too_deep", "depth": depth},
                )
            )
            continue
        cost = measure.cost(definition.selection_set)
        if cost > max_cost:
            errors.append(
                GraphQLError(
                    f"query cost {cost} exceeds the limit of {max_cost}; ask for fewer "
                    "items (limit) or fewer nested lists",
                    definition,
                    extensions={"code": "query_too_costly", "cost": cost},
                )
            )
    return errors
