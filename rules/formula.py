"""The calculation table of Art. 14: a methodology's formula as named steps, evaluated safely in Decimal.

Expressions are parsed with ``ast`` (mode "eval") and walked over a whitelist: decimal numbers, names,
``+ - * /``, unary ``-``/``+``, parentheses, ``min(...)``, ``max(...)`` and ``a if <comparison> else b``.
Nothing is ever compiled or executed; anything else (attributes, other calls, subscripts, ``**``, strings,
lambdas ...) is refused with a violation. Every step's value is kept with the expression and the same
expression with every name replaced by its value, so a reviewer can re-check the table by hand.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from rules.violations import Violation

FORMULA_CODE = "FORMULA"
ARTICLE = "Art. 14"

MAX_EXPRESSION_CHARS = 500
MAX_DEPTH = 50
MAX_STEPS = 100
MAX_CALL_ARGS = 20
MAX_NAME_CHARS = 64
PRECISION = 28
MAX_LITERAL_DIGITS = 28
MAX_LITERAL_EXPONENT = 30
FUNCTIONS = frozenset({"min", "max"})

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def decimal_context() -> Context:
    """A fresh Decimal context: 28 significant digits, ROUND_HALF_EVEN, errors raised, not flagged."""
    return Context(
        prec=PRECISION,
        rounding=ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


@dataclass(frozen=True, slots=True)
class CalculationStep:
    """One row of the calculation table: ``name = expression``, labelled, with its unit."""

    name: str
    expression: str
    label_zh: str
    label_en: str
    unit: str


@dataclass(frozen=True, slots=True)
class TraceLine:
    """One evaluated row: the expression, the expression with the values substituted, and the value."""

    name: str
    label_zh: str
    label_en: str
    unit: str
    expression: str
    substituted: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Calculation:
    """The result (the last step's value) and the whole trace."""

    result: Decimal
    trace: tuple[TraceLine, ...]


class FormulaError(Exception):
    """A calculation that cannot be checked or evaluated; carries every FORMULA violation."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message_en for v in violations))
        self.violations = violations


def _violation(field: str | None, zh: str, en: str) -> Violation:
    return Violation(FORMULA_CODE, ARTICLE, field, zh, en)


# Why a node is refused, in both languages.
_NODE_NAMES: dict[type[ast.AST], tuple[str, str]] = {
    ast.Attribute: ("属性访问（.）", "attribute access (.)"),
    ast.Subscript: ("下标（[]）", "subscripts ([])"),
    ast.Lambda: ("lambda 表达式", "lambda"),
    ast.List: ("列表", "lists"),
    ast.Tuple: ("元组", "tuples"),
    ast.Set: ("集合", "sets"),
    ast.Dict: ("字典", "dicts"),
    ast.ListComp: ("推导式", "comprehensions"),
    ast.SetComp: ("推导式", "comprehensions"),
    ast.DictComp: ("推导式", "comprehensions"),
    ast.GeneratorExp: ("生成器表达式", "generator expressions"),
    ast.JoinedStr: ("格式化字符串", "f-strings"),
    ast.BoolOp: ("and/or", "and/or"),
    ast.NamedExpr: ("赋值表达式（:=）", "assignment expressions (:=)"),
    ast.Starred: ("星号展开（*）", "star unpacking (*)"),
    ast.Await: ("await", "await"),
    ast.Yield: ("yield", "yield"),
    ast.YieldFrom: ("yield", "yield"),
    ast.Slice: ("切片", "slices"),
}

_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not",
    ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}

_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.USub, ast.UAdd)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def _literal(node: ast.Constant, source: str) -> Decimal:
    """The exact Decimal a numeric literal denotes, read from its source text (never via float)."""
    text = ast.get_source_segment(source, node)
    if text is None:  # pragma: no cover - parse() always keeps positions
        raise ValueError("literal without source position")
    return Decimal(text.replace("_", ""))


class _Checker:
    """Walks one parsed expression and collects every refusal as (zh, en) pairs."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[str, str]] = []
        self.too_deep = False

    def refuse(self, zh: str, en: str) -> None:
        if (zh, en) not in self.problems:
            self.problems.append((zh, en))

    def refuse_node(self, node: ast.AST) -> None:
        zh, en = _NODE_NAMES.get(type(node), (type(node).__name__, type(node).__name__))
        self.refuse(f"不允许使用{zh}。", f"Not allowed in a formula: {en}.")

    def refuse_operator(self, op: ast.AST) -> None:
        symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
        self.refuse(f"不允许使用运算符“{symbol}”（只允许 + - * / 和比较）。",
                    f"The operator '{symbol}' is not allowed (only + - * / and comparisons).")

    def deep(self, depth: int) -> bool:
        if depth > MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                self.refuse(f"表达式嵌套过深（超过 {MAX_DEPTH} 层），请拆分为多个步骤。",
                            f"The expression is nested too deeply (over {MAX_DEPTH} levels); "
                            "split it into steps.")
            return True
        return False

    def value(self, node: ast.AST, depth: int) -> None:
        if self.deep(depth):
            return
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _BINARY):
                self.refuse_operator(node.op)
            self.value(node.left, depth + 1)
            self.value(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                self.refuse_operator(node.op)
            self.value(node.operand, depth + 1)
        elif isinstance(node, ast.Call):
            self.call(node, depth)
        elif isinstance(node, ast.IfExp):
            self.condition(node.test, depth + 1)
            self.value(node.body, depth + 1)
            self.value(node.orelse, depth + 1)
        elif isinstance(node, ast.Compare):
            self.refuse("比较只能用作“a if 条件 else b”的条件。",
                        "A comparison may only be the condition of 'a if condition else b'.")
            self.compare(node, depth)
        else:
            self.refuse_node(node)

    def condition(self, node: ast.AST, depth: int) -> None:
        if self.deep(depth):
            return
        if isinstance(node, ast.Compare):
            self.compare(node, depth)
        else:
            self.refuse("“a if 条件 else b”的条件须为比较（如 x > 0）。",
                        "The condition of 'a if condition else b' must be a comparison (such as x > 0).")
            self.value(node, depth)

    def compare(self, node: ast.Compare, depth: int) -> None:
        for op in node.ops:
            if not isinstance(op, _COMPARE):
                self.refuse_operator(op)
        for operand in (node.left, *node.comparators):
            if isinstance(operand, ast.Compare):
                self.compare(operand, depth + 1)
            else:
                self.value(operand, depth + 1)

    def call(self, node: ast.Call, depth: int) -> None:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            self.refuse("只允许调用 min(...) 和 max(...)。", "Only min(...) and max(...) may be called.")
            if not isinstance(func, ast.Name):
                self.value(func, depth + 1)
            for arg in (*node.args, *(k.value for k in node.keywords)):
                self.value(arg, depth + 1)
            return
        if node.keywords:
            self.refuse("min/max 不接受关键字参数。", "min/max take no keyword arguments.")
        if not node.args:
            self.refuse("min/max 至少需要一个参数。", "min/max need at least one argument.")
        if len(node.args) > MAX_CALL_ARGS:
            self.refuse(f"min/max 最多 {MAX_CALL_ARGS} 个参数。",
                        f"min/max take at most {MAX_CALL_ARGS} arguments.")
        for arg in node.args:
            self.value(arg, depth + 1)

    def name(self, node: ast.Name) -> None:
        if node.id in FUNCTIONS:
            self.refuse(f"“{node.id}”只能作为函数调用。", f"'{node.id}' may only be called.")
        elif _NAME.fullmatch(node.id) is None:
            self.refuse(f"名称“{node.id}”不合规：须以字母开头，只含字母、数字和下划线。",
                        f"The name '{node.id}' must start with a letter and hold only letters, digits and "
                        "underscores.")

    def constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.refuse("只允许十进制数字常量（不允许字符串、布尔值、None 等）。",
                        "Only decimal number literals are allowed (no strings, booleans, None ...).")
            return
        try:
            number = _literal(node, self.source)
        except (ArithmeticError, ValueError):
            self.refuse("数字须为十进制写法。", "Numbers must be written in decimal.")
            return
        digits = len(number.as_tuple().digits)
        in_range = -MAX_LITERAL_EXPONENT <= number.adjusted() <= MAX_LITERAL_EXPONENT
        if digits > MAX_LITERAL_DIGITS or not in_range:
            self.refuse(f"数字常量过大或过长（至多 {MAX_LITERAL_DIGITS} 位有效数字，"
                        f"数量级不超过 10^±{MAX_LITERAL_EXPONENT}）。",
                        f"Number literal too large or too long (at most {MAX_LITERAL_DIGITS} significant "
                        f"digits, magnitude within 10^±{MAX_LITERAL_EXPONENT}).")


def _bracket_depth(expression: str) -> int:
    """The deepest bracket nesting before any comment (strings are refused anyway)."""
    depth = deepest = 0
    for char in expression.split("#", 1)[0]:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _parse(expression: str) -> tuple[ast.Expression | None, list[tuple[str, str]]]:
    """The parsed, whitelisted expression, or the reasons it is refused."""
    if not isinstance(expression, str) or not expression.strip():
        return None, [("表达式不能为空。", "The expression must not be empty.")]
    if len(expression) > MAX_EXPRESSION_CHARS:
        return None, [(f"表达式过长（超过 {MAX_EXPRESSION_CHARS} 个字符），请拆分为多个步骤。",
                       f"The expression is longer than {MAX_EXPRESSION_CHARS} characters; "
                       "split it into steps.")]
    if "\n" in expression or "\r" in expression:
        return None, [("表达式须写在一行内。", "The expression must be on one line.")]
    if _bracket_depth(expression) > MAX_DEPTH:
        return None, [(f"括号嵌套过深（超过 {MAX_DEPTH} 层），请拆分为多个步骤。",
                       f"Brackets are nested too deeply (over {MAX_DEPTH} levels); split it into steps.")]
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError) as exc:
        return None, [(f"表达式语法错误：{exc.msg if isinstance(exc, SyntaxError) else exc}。",
                       f"The expression does not parse: {exc.msg if isinstance(exc, SyntaxError) else exc}.")]
    except (RecursionError, MemoryError):
        return None, [("表达式嵌套过深。", "The expression is nested too deeply.")]
    checker = _Checker(expression)
    checker.value(tree.body, 1)
    if checker.problems:
        return None, checker.problems
    return tree, []


def _referenced_names(tree: ast.Expression) -> list[ast.Name]:
    """Every name the expression reads (not the names of called functions), in source order."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
    return sorted(names, key=lambda n: n.col_offset)


def is_valid_name(name: str) -> bool:
    """True for a name a step, input or parameter may have: a letter, then letters, digits or underscores."""
    return (
        isinstance(name, str)
        and _NAME.fullmatch(name) is not None
        and len(name) <= MAX_NAME_CHARS
        and not keyword.iskeyword(name)
        and name not in FUNCTIONS
    )


def parse_expression(expression: str) -> list[Violation]:
    """The reasons a single expression is refused (empty when it is acceptable); field None."""
    _, problems = _parse(expression)
    return [_violation(None, zh, en) for zh, en in problems]


def check_calculation(steps: Sequence[CalculationStep], input_names: set[str],
                      parameter_names: set[str]) -> list[Violation]:
    """Every problem with a calculation table: each expression parses and reads only known inputs,
    parameters or earlier steps; step names are unique and identifier-shaped; there is at least one step."""
    problems: list[Violation] = []
    if not steps:
        problems.append(_violation("calculation", "计算表至少须有一个步骤。",
                                   "The calculation needs at least one step."))
    if len(steps) > MAX_STEPS:
        problems.append(_violation("calculation", f"计算表最多 {MAX_STEPS} 个步骤。",
                                   f"The calculation may have at most {MAX_STEPS} steps."))
    for kind, names in (("inputs", input_names), ("parameters", parameter_names)):
        for name in sorted(names):
            if not is_valid_name(name):
                problems.append(_violation(
                    f"{kind}.{name}",
                    f"名称“{name}”不合规：须以字母开头，只含字母、数字和下划线，且不是保留字。",
                    f"The name '{name}' must start with a letter, hold only letters, digits and underscores, "
                    "and not be a reserved word."))
    for name in sorted(input_names & parameter_names):
        problems.append(_violation(f"parameters.{name}", f"“{name}”同时是输入和参数，含义不明确。",
                                   f"'{name}' is both an input and a parameter, which is ambiguous."))
    all_step_names = {s.name for s in steps}
    defined: set[str] = set()
    for index, step in enumerate(steps):
        prefix = f"calculation[{index}]"
        if not is_valid_name(step.name):
            problems.append(_violation(
                f"{prefix}.name",
                f"步骤名称“{step.name}”不合规：须以字母开头，只含字母、数字和下划线，且不是保留字。",
                f"The step name '{step.name}' must start with a letter, hold only letters, digits and "
                "underscores, and not be a reserved word."))
        elif step.name in defined:
            problems.append(_violation(f"{prefix}.name", f"步骤名称“{step.name}”重复。",
                                       f"The step name '{step.name}' is used twice."))
        elif step.name in input_names or step.name in parameter_names:
            problems.append(_violation(f"{prefix}.name", f"步骤名称“{step.name}”与输入或参数重名。",
                                       f"The step name '{step.name}' is already an input or a parameter."))
        for attr, zh_label in (("label_zh", "中文说明"), ("label_en", "英文说明"), ("unit", "单位")):
            if not str(getattr(step, attr)).strip():
                problems.append(_violation(f"{prefix}.{attr}", f"步骤须有{zh_label}。",
                                           f"The step needs its {attr}."))
        tree, refusals = _parse(step.expression)
        field = f"{prefix}.expression"
        problems.extend(_violation(field, zh, en) for zh, en in refusals)
        if tree is not None:
            reported: set[str] = set()
            for node in _referenced_names(tree):
                name = node.id
                if name in reported or name in input_names or name in parameter_names or name in defined:
                    continue
                reported.add(name)
                if name in all_step_names:
                    problems.append(_violation(field, f"“{name}”须在本步骤之前定义。",
                                               f"'{name}' must be defined by an earlier step."))
                else:
                    problems.append(_violation(field, f"未知名称“{name}”（不是输入、参数或之前的步骤）。",
                                               f"Unknown name '{name}' (not an input, a parameter or an "
                                               "earlier step)."))
        defined.add(step.name)
    return problems


def show(value: Decimal) -> str:
    """A Decimal in plain positional notation (never scientific), as traces and JSON show it."""
    return format(value, "f")


def _check_values(kind: str, values: Mapping[str, Any]) -> tuple[dict[str, Decimal], list[Violation]]:
    clean: dict[str, Decimal] = {}
    problems: list[Violation] = []
    for name, value in values.items():
        field = f"{kind}.{name}"
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            problems.append(_violation(field, f"“{name}”须为十进制数（Decimal，不接受浮点数）。",
                                       f"'{name}' must be a Decimal number (floats are not accepted)."))
        elif isinstance(value, Decimal) and not value.is_finite():
            problems.append(_violation(field, f"“{name}”须为有限数值。",
                                       f"'{name}' must be a finite number."))
        else:
            clean[name] = Decimal(value)
    return clean, problems


class _Evaluator:
    def __init__(self, source: str, env: Mapping[str, Decimal], context: Context) -> None:
        self.source = source
        self.env = env
        self.ctx = context

    def value(self, node: ast.AST) -> Decimal:
        ctx = self.ctx
        if isinstance(node, ast.Constant):
            return _literal(node, self.source)
        if isinstance(node, ast.Name):
            return self.env[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Add):
                return ctx.add(left, right)
            if isinstance(node.op, ast.Sub):
                return ctx.subtract(left, right)
            if isinstance(node.op, ast.Mult):
                return ctx.multiply(left, right)
            if isinstance(node.op, ast.Div):
                return ctx.divide(left, right)
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand)
            if isinstance(node.op, ast.USub):
                return ctx.minus(operand)
            if isinstance(node.op, ast.UAdd):
                return ctx.plus(operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [self.value(a) for a in node.args]
            return min(args) if node.func.id == "min" else max(args)
        if isinstance(node, ast.IfExp):
            return self.value(node.body) if self.condition(node.test) else self.value(node.orelse)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover

    def condition(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Compare):  # pragma: no cover - refused by the checker
            raise AssertionError("condition is not a comparison")
        left = self.value(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator)
            if isinstance(op, ast.Lt):
                ok = left < right
            elif isinstance(op, ast.LtE):
                ok = left <= right
            elif isinstance(op, ast.Gt):
                ok = left > right
            elif isinstance(op, ast.GtE):
                ok = left >= right
            elif isinstance(op, ast.Eq):
                ok = left == right
            else:
                ok = left != right
            if not ok:
                return False
            left = right
        return True


def _substitute(source: str, tree: ast.Expression, env: Mapping[str, Decimal]) -> str:
    """The expression with every name replaced by its value (negative values in parentheses)."""
    raw = source.encode("utf-8")  # ast column offsets count UTF-8 bytes
    pieces: list[bytes] = []
    cursor = 0
    for node in _referenced_names(tree):
        start, end = node.col_offset, node.end_col_offset
        if end is None:  # pragma: no cover - parse() always sets positions
            continue
        value = env[node.id]
        text = show(value)
        if value.is_signed():
            text = f"({text})"
        pieces.append(raw[cursor:start])
        pieces.append(text.encode("utf-8"))
        cursor = end
    pieces.append(raw[cursor:])
    return b"".join(pieces).decode("utf-8")


def evaluate(steps: Sequence[CalculationStep], inputs: Mapping[str, Decimal],
             parameters: Mapping[str, Decimal], *, input_names: Collection[str] | None = None) -> Calculation:
    """Evaluate the calculation table; the result is the last step's value.

    Raise ``FormulaError`` listing every problem: a refused expression, a missing or extra input
    (``inputs.<name>``), a missing parameter (``parameters.<name>``), a value that is not a finite Decimal,
    division by zero or overflow in a step (``calculation[i].expression``). ``input_names`` are the inputs the
    methodology declares; without it, the inputs are every name the steps read that is neither a parameter
    nor a step. Only the branch a condition selects is evaluated, so ``0 if x == 0 else y / x`` is safe.
    """
    problems: list[Violation] = []
    step_names = {s.name for s in steps}
    trees = [_parse(s.expression)[0] for s in steps]
    free: set[str] = set()
    for tree in trees:
        if tree is not None:
            free |= {n.id for n in _referenced_names(tree)} - step_names
    if input_names is not None:
        required = set(input_names)
        for name in sorted(free - required - set(parameters)):
            problems.append(_violation(f"parameters.{name}",
                                       f"“{name}”既不是已声明的输入，也不是有取值的参数。",
                                       f"'{name}' is neither a declared input nor a parameter with a value."))
    else:
        required = free - set(parameters)
    for name in sorted(required - set(inputs)):
        problems.append(_violation(f"inputs.{name}", f"缺少监测输入“{name}”。",
                                   f"The input '{name}' is missing."))
    for name in sorted(set(inputs) - required):
        problems.append(_violation(f"inputs.{name}", f"“{name}”不是该方法学的输入。",
                                   f"'{name}' is not an input of this methodology."))
    known_params = set(parameters) if input_names is None else set(parameters) | (free - required)
    problems.extend(check_calculation(steps, required, known_params - required))
    clean_inputs, input_problems = _check_values("inputs", inputs)
    clean_params, param_problems = _check_values("parameters", parameters)
    problems.extend(input_problems + param_problems)
    if problems:
        raise FormulaError(problems)

    env: dict[str, Decimal] = {**clean_params, **clean_inputs}
    context = decimal_context()
    trace: list[TraceLine] = []
    for index, (step, tree) in enumerate(zip(steps, trees, strict=True)):
        assert tree is not None  # checked above
        try:
            value = _Evaluator(step.expression, env, context).value(tree.body)
        except ZeroDivisionError:  # DivisionByZero and 0/0 (DivisionUndefined)
            raise FormulaError([_violation(
                f"calculation[{index}].expression", f"步骤“{step.name}”中除数为零。",
                f"Division by zero in step '{step.name}'.")]) from None
        except DecimalException:
            raise FormulaError([_violation(
                f"calculation[{index}].expression", f"步骤“{step.name}”的计算结果超出范围或无效。",
                f"Step '{step.name}' overflows or has no valid result.")]) from None
        trace.append(TraceLine(step.name, step.label_zh, step.label_en, step.unit, step.expression,
                               _substitute(step.expression, tree, env), value))
        env[step.name] = value
    return Calculation(trace[-1].value, tuple(trace))


def trace_to_json(calc: Calculation) -> dict[str, Any]:
    """The calculation as JSON-safe data, every value as a decimal string."""
    return {
        "result": show(calc.result),
        "trace": [
            {
                "name": line.name,
                "label_zh": line.label_zh,
                "label_en": line.label_en,
                "unit": line.unit,
                "expression": line.expression,
                "substituted": line.substituted,
                "value": show(line.value),
            }
            for line in calc.trace
        ],
    }
