"""KER001 (the file does not parse) and KER002 (the file cannot be checked safely). The engine
reports both itself, never the walker.

Also the guard that keeps pathological text away from LibCST's parser. Its native parser recurses
once per level of nesting and overflows the C stack (a crash, not an exception) when a construct
nests deep enough, and its time and memory grow with the square of an expression's depth.
`check_parsable` measures every construct that nests with one cheap scan of the text and raises
`Unparsable` instead of letting the parser stall or crash.

The figures below were measured with LibCST 1.9 on CPython 3.11, one construct repeated N
times in a file, in the main thread of a process with the default 8 MB stack (a thread with an
8 MB stack, as the language server's lint thread gets, crashes at the same N); "crash" is the
smallest N that killed the process with SIGSEGV. Each limit leaves a margin of five or more, is
still parsed in a thread with a 2 MB stack (where crashes come five to eight times sooner),
and stays far above what real code does.
"""

from __future__ import annotations

import re

from .model import NOT_CHECKED_CODE, RULE_FAILED_CODE, SYNTAX_ERROR_CODE, Severity
from .rule import Example, Rule

# Above this many characters the engine does not check a text. LibCST's memory and time grow
# with the size: 1,000,000 characters of this project's own code parse in 4 to 12 s with a
# peak of 350 MB, and a 2 MB module took 66 s and 1.47 GB (735 bytes per character; 10 MB
# exhausted the memory). The limit thus means at most about 750 MB and half a minute, and the
# largest hand-written modules in site-packages (a few hundred KB) stay well under it.
MAX_FILE_SIZE = 1_000_000

# The deepest bracket nesting checked: CPython itself refuses more than 200 nested brackets
# ("too many nested parentheses"), so no valid Python is refused. Nested parentheses crash the
# parser at 1,280 levels and nested lists at 1,232 (in a thread with a 2 MB stack: between 308
# and 616); nested calls and subscripts are the slowest (256 nested calls: 1.2 s; 512: 4.8 s
# and 600 MB), 200 of them take about 0.7 s.
MAX_BRACKET_DEPTH = 200

# The deepest f-string nesting (`f"{f"{...}"}"`, Python 3.12 and later, where CPython allows
# 150 levels). Nested f-strings crash the parser at 1,136 levels (2 MB stack: below 284) and
# take 1.2 s and 450 MB at 512; 100 levels take under 0.1 s.
MAX_FSTRING_DEPTH = 100

# The deepest chain of operators, attribute accesses, calls and subscripts within one
# expression (its tree depth, as LibCST builds it), in levels. Time and memory grow with the
# square of the depth: 1,024 levels take 0.24 s for `1+1+...` (5,000: 22 s), 0.5 s and 150 MB
# for `a**a**...`, 0.5 s for prefixes (`-`, `~`, `not`; 4,096: 8 s and 930 MB) and for an
# attribute chain; none of these crashed before the measurement's 15 s time limit (at 4,096
# or 8,192 levels). Some constructs count more than one level, each for its own reason:
# - a call or a subscript in a chain counts 2: `f()()...` and `a[0][0]...` are slower (1,024:
#   1.2 s and 2.1 s; 512: under 0.5 s);
# - `and` and `or` count 2: their chains are linear in time but crash the parser at 7,168
#   terms (2 MB stack: below 1,792);
# - a conditional expression counts 2 (its `if` and its `else`): 1,024 take 1 s and 200 MB;
# - `lambda` counts 4: nested lambdas crash the parser at 3,520 (2 MB stack: below 880) and
#   1,024 take 0.6 s and 220 MB.
MAX_EXPRESSION_DEPTH = 1000

# The most string literals concatenated by juxtaposition (`"a" "b" ...`). LibCST's parser
# rejects more than 3,000 as a syntax error although Python accepts them (3,000 take 0.5 s).
MAX_ADJACENT_STRINGS = 1000

# The longest `elif` chain: LibCST nests each `elif` in the one before it, and crashes at
# 8,320 (2 MB stack: between 2,000 and 4,000); its time is linear (8,192 take 1.3 s).
MAX_ELIF_CHAIN = 1000

# Blocks nested by indentation need no limit here: LibCST's tokenizer refuses 100 levels
# ("too many indentation levels"), as CPython does, so such text is a syntax error. Decorators,
# comparison chains (`a < b < ...`), star-expressions and chained assignments are flat lists
# in LibCST's tree, linear in time (131,072 of them take under 5 s), and `await await x` does
# not parse; the size limit covers them.

# Text with at most _FEW of these cannot reach any expression limit (a `lambda` counts 4).
_FEW = min(MAX_BRACKET_DEPTH, MAX_FSTRING_DEPTH, MAX_EXPRESSION_DEPTH // 4)
_COUNTED = (
    "(", "[", "{", ".", "+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<<", ">>",
    "not", "and", "or", "if", "else", "lambda", "await",
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# One token of the scan, after the text before it that cannot hold one (words other than the
# counted keywords, and characters that start no token), which the regular expression skips at
# C speed: each run of them can be matched one way only, so a failed match does not backtrack
# far. Comments and strings come first so that brackets and operators inside them are skipped;
# a string's body is matched a run of ordinary characters at a time (an unrolled loop), not one
# character per step;
# the quote of an unterminated string, a lone `<` or `>` and a decimal point are `other`.
# An f-string that opens right inside a replacement field is nested in another f-string.
_TOKEN = re.compile(
    r"""
    (?: [^\w\#'"\\()\[\]{},;\r\n*/%@&|^~+\-.<>]+ (?![^\w\#'"\\()\[\]{},;\r\n*/%@&|^~+\-.<>])
      | (?!(?:and|or|not|if|else|lambda|await)\b) \w+ (?!\w)
    )*
    (?: (?P<comment> \#[^\r\n]* | \\\r?\n )
      | (?P<string> \"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
                | '''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
                | "[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*" | '[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*' )
      | (?P<fstring_open> \{(?=\s*(?:[fFtT][rR]?|[rR][fFtT])['"]) )
      | (?P<open> [(\[{] )
      | (?P<close> [)\]}] )
      | (?P<separator> [,;] )
      | (?P<newline> \r\n|\r|\n )
      | (?P<operator> \*\*|//|<<|>>|[-+*/%@&|^~]|\.(?!\d)|\b(?:not|if|else|await)\b )
      | (?P<boolean> \b(?:and|or)\b )
      | (?P<lambda> \blambda\b )
      | (?P<other> [\s\S] | \Z )
    )
    """,
    re.VERBOSE,
)
# Levels of expression depth per token kind (see MAX_EXPRESSION_DEPTH).
_LEVELS = {"operator": 1, "boolean": 2, "lambda": 4, "other": 0}
_TOO_DEEP_EXPRESSION = f"an expression nested more than {MAX_EXPRESSION_DEPTH} levels deep"
# What may stand between two string literals that Python joins into one: blanks, line
# continuations and the next literal's prefix (comments are skipped separately).
_STRING_GAP = re.compile(r"[\s\\]*[rRbBuUfFtT]{0,2}")
# A character before `(` or `[` that makes it a call or a subscript rather than a group or a list.
_TRAILER_AFTER = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_)]'\"")
_IF_OR_ELIF = re.compile(r"^([ \t]*)(if|elif)\b", re.MULTILINE)


class Unparsable(Exception):
    """Text the parser must not be given; `offset` is where the problem is. `code` is KER002
    (valid code that cannot be checked safely), or KER001 for text that is not valid Python
    source at all."""

    def __init__(self, why: str, offset: int = 0, code: str = NOT_CHECKED_CODE) -> None:
        super().__init__(why)
        self.why = why
        self.offset = offset
        self.code = code


def check_size(text: str, limit: int = MAX_FILE_SIZE) -> None:
    """Raise `Unparsable` for text longer than `limit` characters."""
    if len(text) > limit:
        raise Unparsable(f"it is {len(text):,} characters long, over the limit of {limit:,} (`max-file-size`)")


def check_parsable(text: str) -> None:
    """Raise `Unparsable` for text that would crash or stall LibCST's parser.

    It costs a few percent of a parse: most text is handled by C-speed counting, and only the
    tokens that nest (brackets, operators, strings, line ends) reach Python code.
    """
    # ASCII text (most source) holds no surrogate: `isascii` answers without a scan.
    surrogate = None if text.isascii() else _SURROGATE.search(text)
    if surrogate is not None:
        raise Unparsable(
            f"it holds a lone surrogate (U+{ord(surrogate.group()):04X}), which is not valid Unicode",
            surrogate.start(),
            SYNTAX_ERROR_CODE,
        )
    _check_elif_chains(text)
    if _more_than(text, _COUNTED, _FEW) or text.count("'") + text.count('"') > 2 * MAX_ADJACENT_STRINGS:
        _check_expressions(text)


def _more_than(text: str, needles: tuple[str, ...], limit: int) -> bool:
    """Whether the needles occur more than `limit` times in all, counting only until the answer
    is known (in most files the first one or two needles are enough)."""
    total = 0
    for needle in needles:
        total += text.count(needle)
        if total > limit:
            return True
    return False


def _check_expressions(text: str) -> None:
    """The expression limits, from one pass over the text's tokens.

    The scan over-estimates LibCST's own depth: a run of operators between commas counts as
    nested (as a chain of binary operations is), each opening bracket counts one level in its
    enclosing expression (two for a call or a subscript), and commas and statement ends start
    counting afresh.
    """
    # For each open bracket, the depth counted in the expressions around it, and their sum.
    stack: list[int] = []
    outer = 0
    run = 0  # levels since the last separator, at the current bracket level
    fstrings: list[int] = []  # the bracket depth of each f-string nested in a replacement field
    strings = 0  # string literals in the current juxtaposition
    strings_end = -1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "newline":
            if not stack:
                run = 0  # the end of a statement
        elif kind == "open" or kind == "fstring_open":
            start = match.start(kind)
            weight = 2 if match.group() != "{" and start and text[start - 1] in _TRAILER_AFTER else 1
            stack.append(run + weight)
            outer += run + weight
            run = 0
            if len(stack) > MAX_BRACKET_DEPTH:
                raise Unparsable(f"brackets nested more than {MAX_BRACKET_DEPTH} deep", start)
            if outer > MAX_EXPRESSION_DEPTH:
                raise Unparsable(_TOO_DEEP_EXPRESSION, start)
            if kind == "fstring_open":
                fstrings.append(len(stack))
                # Only every other level of same-quote nesting shows as a bracket to this scan.
                if 2 * len(fstrings) > MAX_FSTRING_DEPTH:
                    raise Unparsable(f"f-strings nested more than {MAX_FSTRING_DEPTH} deep", start)
        elif kind == "close":
            if fstrings and fstrings[-1] == len(stack):
                fstrings.pop()
            if stack:
                run = stack.pop()
                outer -= run
            else:
                run = 0
        elif kind == "separator":
            run = 0
        elif kind == "string":
            start = match.start(kind)
            if start == strings_end or _STRING_GAP.fullmatch(text, strings_end, start):
                strings += 1
                if strings > MAX_ADJACENT_STRINGS:
                    raise Unparsable(f"more than {MAX_ADJACENT_STRINGS} string literals in a row", start)
            else:
                strings = 1
            strings_end = match.end()
        elif kind == "comment":
            if strings and _STRING_GAP.fullmatch(text, strings_end, match.start(kind)):
                strings_end = match.end()  # a comment between two joined literals
        else:
            run += _LEVELS[kind]
            if outer + run > MAX_EXPRESSION_DEPTH:
                raise Unparsable(_TOO_DEEP_EXPRESSION, match.start(kind))


def _check_elif_chains(text: str) -> None:
    """`elif` chains longer than MAX_ELIF_CHAIN: each `elif` counts in the chain of the last
    `if` at its indentation."""
    if text.count("elif") <= MAX_ELIF_CHAIN:
        return
    chains: dict[str, int] = {}
    for match in _IF_OR_ELIF.finditer(text):
        indent, keyword = match.groups()
        if keyword == "if":
            chains[indent] = 0
            continue
        chains[indent] = chains.get(indent, 0) + 1
        if chains[indent] > MAX_ELIF_CHAIN:
            raise Unparsable(f"an `if` statement with more than {MAX_ELIF_CHAIN} `elif` branches", match.start(2))


class SyntaxErrorRule(Rule):
    """
    ## Why
    A file that does not parse cannot be checked: no other finding is reported for it until the
    syntax error is fixed. In the editor, the findings from the last version that parsed stay
    visible while you type.

    Valid Python that kerasfix cannot check safely (too large, or nested too deeply) is not a
    syntax error: it gets KER002 instead.

    ## Fix safety
    No fix. `kerasfix check --fix` never writes a file it could not parse.
    """

    code = SYNTAX_ERROR_CODE
    name = "syntax-error"
    message = "The file does not parse"
    severity = Severity.ERROR


# The finding points at the first bracket past the limit.
_TOO_DEEP = (
    "import tensorflow as tf\n"
    f"x = {'(' * MAX_BRACKET_DEPTH}«»(1{')' * (MAX_BRACKET_DEPTH + 1)}\n"
)


class NotCheckedRule(Rule):
    """
    ## Why
    Some valid Python cannot be checked safely: LibCST's parser, which kerasfix reads code
    with, would crash (its native code overflows the stack on deeply nested code), run out of
    memory, or take minutes. kerasfix does not hand such a file to the parser. It reports
    this finding instead, saying what is too large or too deep and the limit, and checks the
    rest of the project as usual:

    - a file over 1,000,000 characters (up to about 750 MB of memory and half a minute to
      parse); change the limit with `max-file-size = 2_000_000` in `[tool.kerasfix]`;
    - brackets nested more than 200 deep (CPython refuses more, too), or f-strings nested
      more than 100 deep;
    - one expression nested more than 1,000 levels deep: a 1,000-term `a + b + ...` chain
      (500 for `and` / `or`), 1,000 prefixes (`not not ...`), 1,000 attributes or 500 calls or
      subscripts in a chain, 500 nested conditional expressions or 250 nested lambdas;
    - more than 1,000 string literals joined by juxtaposition (`"a" "b" ...`);
    - an `if` with more than 1,000 `elif` branches;
    - anything else Python accepts but LibCST's parser rejects.

    A file whose parse fails for lack of memory or stack is reported the same way. Such code
    is almost always generated: exclude it (`exclude` in `[tool.kerasfix]`) or split it.

    ## Fix safety
    No fix. `kerasfix check --fix` never writes a file it did not check.
    """

    code = NOT_CHECKED_CODE
    name = "file-not-checked"
    message = "The file cannot be checked safely: it is too large or too deeply nested"
    severity = Severity.WARNING
    examples = (Example(_TOO_DEEP),)


class RuleFailedRule(Rule):
    """
    ## Why
    A rule raised an error on this code, so that rule did not check it: a finding it would
    have reported here may be missing. The other rules checked the code as usual. The message
    names the rule and the error. It is a bug in kerasfix, not in your code: please report it
    with the line the finding points at.

    ## Fix safety
    No fix. Ignore it for a line with `# noqa: KER003` until the rule is mended.
    """

    code = RULE_FAILED_CODE
    name = "rule-failed"
    message = "A rule failed on this code and did not check it"
    severity = Severity.WARNING
    # No shipped rule fails on purpose: tests/test_engine.py runs a broken rule instead.
    examples = ()


def rule_failed_message(code: str, error: BaseException) -> str:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"{code} failed on this code and did not check it ({detail}): a bug in kerasfix, please report it"
