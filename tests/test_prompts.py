import pytest

from studio.prompts import BOOK_TEMPLATE, PromptTemplate, make_prompt

# The book's prompt, typed out independently of the implementation.
EXPECTED = (
    "당신은 SQL을 생성하는 SQL 봇입니다. DDL의 테이블을 활용한 Question을 해결할 수 있는 SQL 쿼리를 생성하세요.\n"
    "\n"
    "### DDL:\n"
    "CREATE TABLE t (id INT);\n"
    "\n"
    "### Question:\n"
    "몇 개인가요?\n"
    "\n"
    "### SQL:\n"
)


def test_make_prompt_reproduces_the_book_for_inference():
    assert make_prompt("CREATE TABLE t (id INT);", "몇 개인가요?") == EXPECTED


def test_make_prompt_appends_the_answer_for_training():
    assert make_prompt("CREATE TABLE t (id INT);", "몇 개인가요?", "SELECT COUNT(*) FROM t;") == (
        EXPECTED + "SELECT COUNT(*) FROM t;"
    )


def test_fields_are_filled_once_even_when_values_contain_braces_or_field_names():
    prompt = make_prompt("CREATE TABLE t (j JSON DEFAULT '{}');", "{query} 라는 글자가 있는 행은?")
    assert "DEFAULT '{}'" in prompt
    assert "{query} 라는 글자가 있는 행은?" in prompt
    assert prompt.endswith("### SQL:\n")


def test_custom_template_renders_its_fields():
    template = PromptTemplate("Schema: {ddl}\nQ: {question}\nA: {query}")
    assert template.render("D", "Q?", "S") == "Schema: D\nQ: Q?\nA: S"


@pytest.mark.parametrize(
    "text, message",
    [
        ("Q: {question}\nA: {query}", "{ddl}"),
        ("{ddl} {query} {question}", "end with {query}"),
    ],
)
def test_custom_template_without_its_fields_is_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        PromptTemplate(text)


def test_book_template_is_the_default():
    assert PromptTemplate().text == BOOK_TEMPLATE
