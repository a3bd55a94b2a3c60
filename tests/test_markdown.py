from harness.reports.markdown import escape_md


def test_html_is_escaped_and_markdown_is_literal():
    out = escape_md('<script>alert(1)</script> <img src=x onerror="alert(1)"> [click](javascript:alert(1)) **b**')
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in out
    assert "\\*\\*b\\*\\*" in out


def test_line_breaks_stay_in_one_cell():
    assert escape_md("a\nb | c") == "a<br>b \\| c"
