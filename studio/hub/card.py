"""The model card of a pushed adapter or merged model: Hub metadata (base model, library, tags, data set,
model-index with the EX and judge scores) and a body with the prompt, a load snippet, the training
parameters and the results. The card holds no dates, so pushing the same run again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.models import BUILTIN_MODELS, COMPLETE_MARKER, is_hub_id

TAGS = ["text2sql", "korean", "autotrain", "lora"]
STUDIO_NAME = "Text2SQL LoRA Studio"  # every card names the studio: a repo whose card does not, it did not make

TEMPLATE = """\
---
{{ card_data }}
---

# {{ title }}

{{ kind }} for [{{ base_model }}]({{ base_url }}) that writes SQL from Korean questions (한국어 질문 → SQL), \
fine-tuned with LoRA through [AutoTrain](https://github.com/huggingface/autotrain-advanced) in \
{{ studio }}, following chapter 6 of *LLM을 활용한 실전 AI 애플리케이션 개발*.

## Prompt

The model completes this template (the book's `make_prompt`); the completion after `### SQL:` is the query.

```text
{{ template }}
```
{% if examples %}
In training, each `{question}` was followed by the most alike training question of another database and its
SQL: `{question}\n\n### Example:\n{example question}\n{example SQL}` (Text2SQL LoRA Studio's
`studio/retrieval.py`). Ask it the same way for the answers it was scored with.
{% endif %}
## How to use

```python
{{ snippet }}
```

## Training

| parameter | value |
|---|---|
{% for name, value in parameters %}| {{ name }} | {{ value }} |
{% endfor %}
{% if results %}
## Results

| measure | value |
|---|---|
{% for name, value in results %}| {{ name }} | {{ value }} |
{% endfor %}
EX is execution accuracy: the share of questions whose generated SQL returns the same rows as the gold \
SQL. The judge score is the share of "yes" verdicts of an LLM judge comparing the two queries.
{% endif %}
"""

ADAPTER_SNIPPET = '''\
import torch
from peft import AutoPeftModelForCausalLM
from transformers import AutoTokenizer

model = AutoPeftModelForCausalLM.from_pretrained("{repo_id}")  # loads {base_model} and the adapter
tokenizer = AutoTokenizer.from_pretrained("{repo_id}")
PROMPT = """{template}"""
prompt = PROMPT.format(ddl="CREATE TABLE players (player_id INT, name VARCHAR(50), level INT);",
                       question="레벨이 10 이상인 플레이어의 이름을 알려줘", query="")
inputs = tokenizer(prompt, return_tensors="pt")
with torch.no_grad():
    output = model.generate(**inputs, max_new_tokens=128, do_sample=False)
print(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))'''

MERGED_SNIPPET = ADAPTER_SNIPPET.replace(
    "from peft import AutoPeftModelForCausalLM\nfrom transformers import AutoTokenizer",
    "from transformers import AutoModelForCausalLM, AutoTokenizer",
).replace(
    'AutoPeftModelForCausalLM.from_pretrained("{repo_id}")  # loads {base_model} and the adapter',
    'AutoModelForCausalLM.from_pretrained("{repo_id}", dtype=torch.float16)  # {base_model} with LoRA merged',
)


def hub_base_model(ref: str) -> str | None:
    """The Hub id of a base model reference: a built-in's (by name, or its converted folder, which
    AutoTrain writes into adapter configs), or the id itself; None for any other folder."""
    marker = Path(ref).expanduser() / COMPLETE_MARKER
    if ref in BUILTIN_MODELS:
        return BUILTIN_MODELS[ref].hub_id
    if marker.is_file():
        return json.loads(marker.read_text(encoding="utf-8")).get("hub_id")
    return ref if is_hub_id(ref) else None


def model_card(
    *,
    repo_id: str,
    title: str,
    base_model: str,
    merged: bool,
    template: str,
    dataset: str | None,
    parameters: Mapping[str, Any],
    results: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None,
    examples: bool = False,
) -> str:
    """The README.md text of the repo; `examples`: trained on prompts with a retrieved example."""
    from huggingface_hub import ModelCard, ModelCardData

    base_id = hub_base_model(base_model)
    data = ModelCardData(
        base_model=base_id,
        library_name="transformers" if merged else "peft",
        pipeline_tag="text-generation",
        language=["ko"],
        tags=TAGS + (["merged"] if merged else []),
        datasets=[dataset] if dataset else None,
        model_name=repo_id.split("/")[-1],
        eval_results=_eval_results(evaluation, dataset) or None,
    )
    snippet = (MERGED_SNIPPET if merged else ADAPTER_SNIPPET).format(
        repo_id=repo_id, base_model=base_id or base_model, template=template)
    card = ModelCard.from_template(
        data,
        template_str=TEMPLATE,
        title=title,
        studio=STUDIO_NAME,
        kind="A full model (LoRA merged, fp16)" if merged else "A LoRA adapter",
        base_model=base_id or base_model,
        base_url=f"https://huggingface.co/{base_id}" if base_id else "#",
        template=template,
        examples=examples,
        snippet=snippet,
        parameters=_rows(parameters),
        results=_rows({**results, **_scores(evaluation)}),
    )
    return str(card)


def _scores(evaluation: Mapping[str, Any] | None) -> dict[str, Any]:
    """The evaluation summary's headline numbers (keys of evaluation.scoring.Summary.to_dict())."""
    if not evaluation:
        return {}
    names = {"ex_score": "EX (execution accuracy)", "judge_score": "judge score", "accuracy": "accuracy",
             "total": "evaluated rows", "mode": "scoring mode"}
    return {label: _percent(evaluation[key]) if key.endswith(("score", "accuracy")) else evaluation[key]
            for key, label in names.items() if evaluation.get(key) is not None}


def _eval_results(evaluation: Mapping[str, Any] | None, dataset: str | None) -> list:
    from huggingface_hub import EvalResult

    if not evaluation:
        return []
    eval_set = evaluation.get("dataset") or dataset or "text2sql-eval"
    metrics = (("ex_score", "execution_accuracy", "EX"), ("judge_score", "llm_judge", "judge"))
    return [
        EvalResult(task_type="text-generation", task_name="Text-to-SQL", dataset_type=eval_set,
                   dataset_name=eval_set, metric_type=kind, metric_name=name,
                   metric_value=round(100 * evaluation[key], 1))
        for key, kind, name in metrics if evaluation.get(key) is not None
    ]


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _rows(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(name, _cell(value)) for name, value in values.items() if value is not None and value != ""]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        value = f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")
