"""An Ollama Modelfile for an exported GGUF: the book's prompt as its TEMPLATE, greedy decoding.

`ollama create NAME -f Modelfile` in the export's folder, then ask with the DDL as the system message and the
question as the prompt: `ollama run NAME` after `/set system <DDL>`, or the API's `system` and `prompt`.
"""

from __future__ import annotations

from studio.prompts import BOOK_TEMPLATE

STOPS = (";", "<|im_end|>")  # one statement is the answer; the chat end token of SmolLM2-style models


def modelfile(gguf_name: str, template: str = BOOK_TEMPLATE) -> str:
    """The Modelfile text for `gguf_name` (a file beside it)."""
    go_template = (template.replace("{ddl}", "{{ .System }}").replace("{question}", "{{ .Prompt }}")
                   .replace("{query}", ""))
    lines = [f"FROM ./{gguf_name}", f'TEMPLATE """{go_template}"""', "PARAMETER temperature 0",
             "PARAMETER num_predict 256", *(f"PARAMETER stop {_quoted(stop)}" for stop in STOPS)]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'
