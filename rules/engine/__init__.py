"""The machinery every rule stands on: parsing, names, the project index, backend scope, the
walker, the context a rule sees, positions, edits and fixes, incremental linting, notebooks and
settings. The rule families beside this package hold only rules and their data.

The modules import one another without cycles (tests/test_layout.py checks it); `registry`
imports the families by name when the rules are first asked for. Nothing is re-exported here:
`kerasfix.rules` is the public face, and a module's name (`engine.lint`) stays the module.
"""
