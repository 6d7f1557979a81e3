"""GraphQL at ``/api/graphql``, one module per reason to change: :mod:`.transport` (HTTP,
parsing, validation, running), :mod:`.schema` (the SDL and its bindings), :mod:`.queries` and
:mod:`.mutations` (the resolvers)."""
