"""KER001: the file does not parse. Reported by the engine itself, never by the walker.

Also the guard that keeps pathological text away from LibCST's parser: its native parser
recurses once per nested bracket and overflows the C stack (a crash, not an exception) at
around 1,500 levels, and its time grows with the square of an expression's depth (a 5,000-term
`1+1+...` chain takes over 20 seconds). `check_parsable` measures both with one cheap scan
of the text and raises `Unparsable` instead of letting the parser stall or crash.
"""

from __future__ import annotations

import re

from .model import SYNTAX_ERROR_CODE, Severity
from .rule import Rule

# The deepest bracket nesting checked. 600 nested calls parse in about two seconds; 1,500
# nested brackets crash the parser.
MAX_BRACKET_DEPTH = 600
# The deepest chain of operators, attribute accesses, calls and subscripts within one
# expression (its tree depth, as LibCST builds it). 1,000 levels parse in under half a second.
MAX_EXPRESSION_DEPTH = 1000

# Text with fewer of these than MAX_BRACKET_DEPTH cannot reach either limit.
_COUNTED = ("(", "[", "{", ".", "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "not", "else", "lambda", "await")
_SURROGATE = re.compile("[\ud800-\udfff]")
# One token of the scan. Comments and strings come first so that brackets and operators inside
# them are skipped; an unterminated string matches nothing and is skipped one character at a time.
_TOKEN = re.compile(
    r"""
      (?P<skip> \#[^\r\n]*
              | \"\"\"(?:\\.|[^\\])*?\"\"\" | '''(?:\\.|[^\\])*?'''
              | "(?:\\.|[^"\\\r\n])*" | '(?:\\.|[^'\\\r\n])*'
              | \\\r?\n )
    | (?P<open> [(\[{] )
    | (?P<close> [)\]}] )
    | (?P<separator> [,;] )
    | (?P<newline> \r\n|\r|\n )
    | (?P<operator> \*\*|//|<<|>>|[-+*/%@&|^~]|\.(?!\d)|\b(?:not|else|lambda|await)\b )
    """,
    re.VERBOSE,
)


class Unparsable(Exception):
    """Text the parser must not be given; `offset` is where the problem is."""

    def __init__(self, why: str, offset: int = 0) -> None:
        super().__init__(why)
        self.why = why
        self.offset = offset


def check_parsable(text: str) -> None:
    """Raise `Unparsable` for text that would crash or stall LibCST's parser.

    The scan is an over-estimate of LibCST's own depth: a run of operators between commas
    counts as nested (as a chain of binary operations is), each opening bracket counts one
    level in its enclosing expression, and commas and statement ends start counting afresh.
    It costs a few percent of a parse.
    """
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise Unparsable(
            f"it holds a lone surrogate (U+{ord(surrogate.group()):04X}), which is not valid Unicode", surrogate.start()
        )
    if sum(map(text.count, _COUNTED)) <= MAX_BRACKET_DEPTH:
        return  # the common case for a single statement or a short file, at C speed
    # For each open bracket, the depth counted in the expressions around it, and their sum.
    stack: list[int] = []
    outer = 0
    run = 0  # operators since the last separator, at the current bracket level
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "operator":
            run += 1
            if outer + run > MAX_EXPRESSION_DEPTH:
                raise Unparsable(f"an expression nested more than {MAX_EXPRESSION_DEPTH} levels deep", match.start())
        elif kind == "open":
            stack.append(run + 1)
            outer += run + 1
            run = 0
            if len(stack) > MAX_BRACKET_DEPTH:
                raise Unparsable(f"brackets nested more than {MAX_BRACKET_DEPTH} deep", match.start())
            if outer > MAX_EXPRESSION_DEPTH:
                raise Unparsable(f"an expression nested more than {MAX_EXPRESSION_DEPTH} levels deep", match.start())
        elif kind == "close":
            if stack:
                run = stack.pop()
                outer -= run
            else:
                run = 0
        elif kind == "separator" or (kind == "newline" and not stack):
            run = 0  # a comma, or the end of a statement


class SyntaxErrorRule(Rule):
    """
    ## Why
    A file that does not parse cannot be checked: no other finding is reported for it until the
    syntax error is fixed. In the editor, the findings from the last version that parsed stay
    visible while you type.

    A file that parses but would take the parser minutes or crash it (brackets nested more than
    600 deep, or one expression nested more than 1,000 levels, such as a 100,000-character
    `1 + 1 + ...` line) is not checked either; the finding says why.

    ## Fix safety
    No fix. `kerasfix check --fix` never writes a file it could not parse.
    """

    code = SYNTAX_ERROR_CODE
    name = "syntax-error"
    message = "The file does not parse"
    severity = Severity.ERROR
