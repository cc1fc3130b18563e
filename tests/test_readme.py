"""The README's REPL session runs as written."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_repl_session() -> None:
    """Every `>>>` example in the README produces the output shown."""
    text = README.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "README", str(README), 0)
    assert test.examples, "the README lost its REPL session"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0


def test_readme_code_blocks_run_with_only_the_placeholders_filled() -> None:
    """Every ```python block that is not the REPL session runs as a user would paste it, given only what it names
    as placeholders (a chat model, tools, a checkpointer, a Shield, a LlamaIndex LLM): its imports are in the
    block. It once used `create_agent` and `FunctionAgent` without importing them (NameError when pasted)."""
    import re

    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from airs_plugins import Shield
    from airs_plugins.llamaindex.testing import answer, scripted_llm

    def search_docs(query: str) -> str:
        """Search the documentation."""
        return "no results"

    text = README.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if not b.lstrip().startswith(">>>")]
    assert blocks, "the README lost its adapter snippet"
    for block in blocks:
        namespace = {"model": GenericFakeChatModel(messages=iter([AIMessage("hi")])), "tools": [search_docs],
                     "saver": InMemorySaver(), "shield": Shield.default(), "llm": scripted_llm([answer("hi")])}
        exec(compile(block, str(README), "exec"), namespace)
        assert "agent" in namespace
