"""The safe Decimal evaluator behind the Art. 14 calculation table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.formula import (
    MAX_DEPTH,
    MAX_EXPRESSION_CHARS,
    CalculationStep,
    FormulaError,
    check_calculation,
    decimal_context,
    evaluate,
    parse_expression,
    trace_to_json,
)

D = Decimal


def step(name: str, expression: str, unit: str = "t") -> CalculationStep:
    return CalculationStep(name, expression, f"{name} 中文", f"{name} label", unit)


PV = [
    step("baseline_t", "generation_mwh * ef"),
    step("reduction_t", "max(baseline_t - loss_t, 0)", "tCO2e"),
]


def test_evaluate_with_trace() -> None:
    calc = evaluate(PV, {"generation_mwh": D("100.5"), "loss_t": D("1")}, {"ef": D("0.5703")})
    assert calc.result == D("56.31515")
    first, last = calc.trace
    assert first.substituted == "100.5 * 0.5703"
    assert first.value == D("57.31515")
    assert last.substituted == "max(57.31515 - 1, 0)"
    assert last.unit == "tCO2e"
    data = trace_to_json(calc)
    assert data["result"] == "56.31515"
    assert data["trace"][0] == {
        "name": "baseline_t", "label_zh": "baseline_t 中文", "label_en": "baseline_t label", "unit": "t",
        "expression": "generation_mwh * ef", "substituted": "100.5 * 0.5703", "value": "57.31515",
    }


def test_negative_values_substituted_in_parentheses() -> None:
    calc = evaluate([step("y", "a - b")], {"a": D("1"), "b": D("-2.5")}, {})
    assert calc.trace[0].substituted == "1 - (-2.5)"
    assert calc.result == D("3.5")


def test_values_shown_without_exponent() -> None:
    calc = evaluate([step("y", "a * 1")], {"a": D("1E+3")}, {})
    assert calc.trace[0].substituted == "1000 * 1"
    assert trace_to_json(calc)["result"] == "1000"


def test_conditional_and_comparisons() -> None:
    steps = [step("y", "0 if x == 0 else 10 / x"), step("z", "y if 0 <= y < 5 else -1")]
    assert evaluate(steps, {"x": D("0")}, {}).result == D("0")
    assert evaluate(steps, {"x": D("4")}, {}).result == D("2.5")
    assert evaluate(steps, {"x": D("1")}, {}).result == D("-1")
    for op, expected in (("<", 0), ("<=", 1), (">", 0), (">=", 1), ("==", 1), ("!=", 0)):
        result = evaluate([step("y", f"1 if a {op} b else 0")], {"a": D(2), "b": D("2.0")}, {}).result
        assert result == expected, op


def test_min_max_and_unary() -> None:
    calc = evaluate([step("y", "min(a, 3, max(-a, +a)) - -1")], {"a": D(5)}, {})
    assert calc.result == D(4)


def test_literals_are_exact_decimals() -> None:
    calc = evaluate([step("y", "0.1 + 0.2 + 1_000 + 1e-3")], {}, {})
    assert calc.result == D("1000.301")


def test_division_rounds_half_even_to_28_digits() -> None:
    calc = evaluate([step("y", "2 / 3")], {}, {})
    assert calc.result == D("0.6666666666666666666666666667")
    assert len(calc.result.as_tuple().digits) == 28


def test_division_by_zero_is_a_clear_error() -> None:
    steps = [step("a", "x * 2"), step("y", "x / (a - a)")]
    with pytest.raises(FormulaError) as caught:
        evaluate(steps, {"x": D(1)}, {})
    (v,) = caught.value.violations
    assert (v.code, v.field) == ("FORMULA", "calculation[1].expression")
    assert "zero" in v.message_en and "除数为零" in v.message_zh
    with pytest.raises(FormulaError):
        evaluate([step("y", "0 / x")], {"x": D(0)}, {})


def test_overflow_is_a_clear_error() -> None:
    with pytest.raises(FormulaError) as caught:
        evaluate([step("y", "x * x")], {"x": D("1E+600000")}, {})
    assert caught.value.violations[0].field == "calculation[0].expression"


def test_missing_and_extra_inputs_name_each_field() -> None:
    with pytest.raises(FormulaError) as caught:
        evaluate(PV, {"generation_mwh": D(1), "colour": D(3), "size": D(1)}, {"ef": D("0.5")})
    fields = [v.field for v in caught.value.violations]
    assert fields == ["inputs.loss_t", "inputs.colour", "inputs.size"]


def test_declared_input_names() -> None:
    declared = {"generation_mwh", "loss_t", "note_unused"}
    inputs = {"generation_mwh": D(1), "loss_t": D(0), "note_unused": D(5)}
    calc = evaluate(PV, inputs, {"ef": D("0.5")}, input_names=declared)
    assert calc.result == D("0.5")
    with pytest.raises(FormulaError) as caught:
        evaluate(PV, {"generation_mwh": D(1), "loss_t": D(0)}, {}, input_names=declared)
    assert [v.field for v in caught.value.violations] == ["parameters.ef", "inputs.note_unused"]


def test_values_must_be_finite_decimals_never_floats() -> None:
    with pytest.raises(FormulaError) as caught:
        evaluate(PV, {"generation_mwh": 1.5, "loss_t": D("NaN")}, {"ef": D("Infinity")})  # type: ignore[dict-item]
    assert [v.field for v in caught.value.violations] == [
        "inputs.generation_mwh", "inputs.loss_t", "parameters.ef",
    ]
    assert evaluate([step("y", "a + 1")], {"a": 2}, {}).result == 3  # type: ignore[dict-item]


def test_check_calculation_accepts_a_good_table() -> None:
    assert check_calculation(PV, {"generation_mwh", "loss_t"}, {"ef"}) == []


def test_check_calculation_reports_everything() -> None:
    steps = [
        step("a", "x + later"),
        step("a", "x"),
        step("1bad", "y"),
        step("ef", "x"),
        CalculationStep("b", "x ** 2", "", " ", ""),
        step("c", "a.b + unknown"),
    ]
    problems = check_calculation(steps, {"x", "ef2"}, {"ef", "ef2", "bad-name"})
    got = [(v.field, v.code) for v in problems]
    assert all(code == "FORMULA" for _, code in got)
    assert [f for f, _ in got] == [
        "parameters.bad-name",
        "parameters.ef2",  # both an input and a parameter
        "calculation[0].expression",  # 'later' is not defined before
        "calculation[1].name",  # duplicate
        "calculation[2].name",  # not identifier-shaped
        "calculation[2].expression",  # unknown y
        "calculation[3].name",  # shadows a parameter
        "calculation[4].label_zh",
        "calculation[4].label_en",
        "calculation[4].unit",
        "calculation[4].expression",  # **
        "calculation[5].expression",  # attribute
    ]


def test_later_step_reference_is_named() -> None:
    steps = [step("a", "b + 1"), step("b", "1"), step("c", "c + 1")]
    problems = check_calculation(steps, set(), set())
    assert [v.field for v in problems] == ["calculation[0].expression", "calculation[2].expression"]
    assert "earlier step" in problems[0].message_en
    assert "earlier step" in problems[1].message_en  # a step may not read itself


def test_empty_calculation_is_refused() -> None:
    problems = check_calculation([], set(), set())
    assert [(v.code, v.field) for v in problems] == [("FORMULA", "calculation")]
    with pytest.raises(FormulaError):
        evaluate([], {}, {})


BAD_NAMES = ["if", "min", "max", "_x", "__import__", "a-b", "", "x" * 65, "变量", "None"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_bad_step_names(name: str) -> None:
    problems = check_calculation([step(name, "1")], set(), set())
    assert [v.field for v in problems] == ["calculation[0].name"]


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",
        "__import__",
        "(1).__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "x.real",
        "a**b",
        "2 ** 3",
        "[1]",
        "(1, 2)",
        "{1: 2}",
        "{1}",
        "'s'",
        '"s"',
        "b's'",
        "f'{x}'",
        "lambda: 1",
        "lambda x: x",
        "[x for x in y]",
        "(x for x in y)",
        "x[0]",
        "x[1:2]",
        "abs(x)",
        "eval('1')",
        "exec('1')",
        "compile('1', 'f', 'eval')",
        "getattr(x, 'y')",
        "min(x, key=y)",
        "min(*x)",
        "min()",
        "max",
        "(x := 1)",
        "not x",
        "~x",
        "x and y",
        "x or y",
        "x // 2",
        "x % 2",
        "x @ y",
        "x << 1",
        "x | y",
        "x & y",
        "x ^ y",
        "x is y",
        "x in y",
        "x < y",
        "1 if x else 2",
        "True",
        "None",
        "...",
        "1j",
        "0x10",
        "0b101",
        "1e31",
        "1e-31",
        "1" * 29,
        "9" * 400,
        "x +",
        "",
        "   ",
        "x\n+ 1",
        "x\r+ 1",
        "a" * 501,
        "x + " * 130 + "x",
        "(" * 60 + "x" + ")" * 60,
        "-" * 60 + "x",
        "min(" * 60 + "x" + ")" * 60,
        "x if " * 30 + "1 > 0" + " else 0" * 30,
        "\x00",
    ],
)
def test_evaluator_refuses_everything_outside_the_whitelist(expression: str) -> None:
    assert parse_expression(expression), expression
    problems = check_calculation([step("y", expression)], {"x", "y2", "a", "b"}, set())
    assert problems
    assert all(v.code == "FORMULA" and v.field == "calculation[0].expression" for v in problems)
    with pytest.raises(FormulaError):
        evaluate([step("y", expression)], {"x": D(1)}, {})


def test_depth_limit_boundary() -> None:
    assert parse_expression("-" * (MAX_DEPTH - 1) + "x") == []
    assert parse_expression("-" * MAX_DEPTH + "x")
    assert parse_expression("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH) == []
    assert parse_expression("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))


def test_limits_boundaries() -> None:
    assert parse_expression("1" * 28) == []
    assert parse_expression("1e30") == []
    assert parse_expression("1e-30") == []
    long_ok = "x + " * 20 + "1"
    assert parse_expression(long_ok + " " * (500 - len(long_ok))) == []
    assert parse_expression(long_ok + " " * (501 - len(long_ok)))


def test_comment_is_harmless_and_substitution_uses_byte_offsets() -> None:
    calc = evaluate([step("y", "a + b  # 中文注释 a b")], {"a": D(1), "b": D(2)}, {})
    assert calc.result == 3
    assert calc.trace[0].substituted == "1 + 2  # 中文注释 a b"


# --- properties -----------------------------------------------------------------------------------------

_leaf_values = st.decimals(min_value=D("-1000"), max_value=D("1000"), allow_nan=False, allow_infinity=False,
                           places=3)
NAMES = ["a", "b", "c"]


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> tuple[str, object]:
    """An expression string and a tree the reference evaluator walks."""
    if depth >= 4 or draw(st.booleans()):
        if draw(st.booleans()):
            name = draw(st.sampled_from(NAMES))
            return name, ("name", name)
        value = draw(_leaf_values)
        return f"({value})" if value.is_signed() else str(value), ("lit", value)
    kind = draw(st.sampled_from(["+", "-", "*", "/", "neg", "min", "max", "if"]))
    left_text, left = draw(arithmetic(depth + 1))
    right_text, right = draw(arithmetic(depth + 1))
    if kind == "neg":
        return f"-({left_text})", ("neg", left)
    if kind in ("min", "max"):
        return f"{kind}({left_text}, {right_text})", (kind, left, right)
    if kind == "if":
        a_text, a = draw(arithmetic(4))
        b_text, b = draw(arithmetic(4))
        return f"(({left_text}) if {a_text} > {b_text} else ({right_text}))", ("if", a, b, left, right)
    return f"({left_text}) {kind} ({right_text})", (kind, left, right)


def reference(tree: object, env: dict[str, Decimal]) -> Decimal:
    ctx = decimal_context()
    assert isinstance(tree, tuple)
    kind = tree[0]
    if kind == "lit":
        return tree[1]  # type: ignore[no-any-return]
    if kind == "name":
        return env[tree[1]]
    if kind == "neg":
        return ctx.minus(reference(tree[1], env))
    if kind == "if":
        chosen = tree[3] if reference(tree[1], env) > reference(tree[2], env) else tree[4]
        return reference(chosen, env)
    left, right = reference(tree[1], env), reference(tree[2], env)
    if kind == "min":
        return min(left, right)
    if kind == "max":
        return max(left, right)
    return {"+": ctx.add, "-": ctx.subtract, "*": ctx.multiply, "/": ctx.divide}[kind](left, right)


@settings(max_examples=300, deadline=None)
@given(arithmetic(), st.fixed_dictionaries({n: _leaf_values for n in NAMES}))
def test_evaluator_equals_decimal_reference(expr: tuple[str, object], env: dict[str, Decimal]) -> None:
    text, tree = expr
    if len(text) > MAX_EXPRESSION_CHARS:
        assert parse_expression(text)
        return
    try:
        expected = reference(tree, env)
    except ArithmeticError:
        with pytest.raises(FormulaError):
            evaluate([step("y", text)], env, {}, input_names=set(NAMES))
        return
    calc = evaluate([step("y", text)], env, {}, input_names=set(NAMES))
    assert calc.result == expected
    # The substituted expression re-evaluates to the same value: a reviewer can re-check it by hand.
    if len(calc.trace[0].substituted) <= MAX_EXPRESSION_CHARS:
        again = evaluate([step("y", calc.trace[0].substituted)], {}, {})
        assert again.result == expected
