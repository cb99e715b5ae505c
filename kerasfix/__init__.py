"""kerasfix: finds and fixes Keras 2 -> Keras 3 migration problems.

The package's code lives in two source folders that pyproject.toml maps below this one: the
engine and its rules (`rules/` -> `kerasfix.rules`) and the front ends (`server/` ->
`kerasfix.server`). This folder holds only what belongs to the package as a whole, such as
`python -m kerasfix`.
"""
