"""KER001: the file does not parse. Reported by the engine itself, never by the walker."""

from __future__ import annotations

from .model import SYNTAX_ERROR_CODE, Severity
from .rule import Rule


class SyntaxErrorRule(Rule):
    """
    ## Why
    A file that does not parse cannot be checked: no other finding is reported for it until the
    syntax error is fixed. In the editor, the findings from the last version that parsed stay
    visible while you type.

    ## Fix safety
    No fix. `kerasfix check --fix` never writes a file it could not parse.
    """

    code = SYNTAX_ERROR_CODE
    name = "syntax-error"
    message = "The file does not parse"
    severity = Severity.ERROR
