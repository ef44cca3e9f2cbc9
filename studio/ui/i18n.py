"""The UI's two languages, Korean first.

Static labels go through `gr.I18n` (the browser's language picks; Gradio's settings menu switches).
Messages made at run time (status lines, errors) cannot be translated by the frontend, so `say()` picks
the language from the request's Accept-Language header, Korean unless the browser prefers English.
"""

from __future__ import annotations

import gradio as gr

KO = {
    "title": "Text2SQL LoRA 스튜디오",
    "subtitle": "한국어 질문을 SQL로 바꾸는 소형 LLM(sLLM)을 LoRA로 미세 조정하고, 실행해 보고, 평가합니다.",
    "tab.playground": "플레이그라운드",
    "playground.intro": "DDL과 질문을 넣으면 책의 `make_prompt` 프롬프트로 SQL을 생성합니다.",
    "playground.model": "베이스 모델",
    "playground.model_info": "내장 모델 이름, 로컬 폴더, 또는 Hub id(owner/name)",
    "playground.adapter": "LoRA 어댑터 폴더 (선택)",
    "playground.ddl": "DDL (CREATE TABLE 문)",
    "playground.question": "질문",
    "playground.max_new_tokens": "최대 생성 토큰 수",
    "playground.generate": "SQL 생성",
    "playground.sql": "생성된 SQL",
    "playground.details": "원본 출력과 프롬프트",
    "playground.completion": "모델의 원본 출력",
    "playground.prompt": "모델에 보낸 프롬프트",
    "playground.examples": "예시 질문",
    "footer": "오프라인 기본값: 내장 SmolLM2-135M-Instruct 모델(CPU). GPU, Hub 토큰, OpenAI 키는 선택 사항입니다.",
}

EN = {
    "title": "Text2SQL LoRA Studio",
    "subtitle": "Fine-tune small LLMs with LoRA to turn Korean questions into SQL, try them, and score them.",
    "tab.playground": "Playground",
    "playground.intro": "Give a DDL and a question; the SQL is generated with the book's `make_prompt` prompt.",
    "playground.model": "Base model",
    "playground.model_info": "a built-in name, a local folder, or a Hub id (owner/name)",
    "playground.adapter": "LoRA adapter folder (optional)",
    "playground.ddl": "DDL (CREATE TABLE statements)",
    "playground.question": "Question",
    "playground.max_new_tokens": "Max new tokens",
    "playground.generate": "Generate SQL",
    "playground.sql": "Generated SQL",
    "playground.details": "Raw completion and prompt",
    "playground.completion": "The model's raw completion",
    "playground.prompt": "The prompt sent to the model",
    "playground.examples": "Example questions",
    "footer": "Offline default: the built-in SmolLM2-135M-Instruct model (CPU). A GPU, a Hub token and an OpenAI key are optional.",
}

# Run-time messages, formatted with str.format.
MESSAGES = {
    "ko": {
        "loading": "모델 준비 중 (처음 한 번은 변환에 30초 정도 걸립니다)…",
        "generating": "SQL 생성 중…",
        "generated": "생성 완료: {tokens}개 토큰, {seconds:.1f}초 (모델 로딩 {load:.1f}초)",
        "no_sql": "모델이 SQL 문을 만들지 못했습니다. 원본 출력을 확인하세요.",
        "empty_question": "질문을 입력하세요.",
        "empty_ddl": "DDL을 입력하세요.",
        "unexpected": "예상하지 못한 오류가 발생했습니다: {error}",
    },
    "en": {
        "loading": "Preparing the model (the first time, conversion takes about 30 s)…",
        "generating": "Generating SQL…",
        "generated": "Done: {tokens} tokens in {seconds:.1f} s (model loading {load:.1f} s)",
        "no_sql": "The model produced no SQL statement; see its raw completion.",
        "empty_question": "Enter a question.",
        "empty_ddl": "Enter a DDL.",
        "unexpected": "An unexpected error occurred: {error}",
    },
}

I18N = gr.I18n(ko=KO, en=EN)


def t(key: str):
    """A label translated in the browser."""
    return I18N(key)


def language_of(request: gr.Request | None) -> str:
    """'en' when the browser prefers English over Korean, else 'ko'."""
    header = ""
    if request is not None:
        header = (request.headers.get("accept-language") or "").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("ko"):
            return "ko"
        if tag.startswith("en"):
            return "en"
    return "ko"


def say(key: str, request: gr.Request | None = None, **values) -> str:
    """A run-time message in the request's language."""
    return MESSAGES[language_of(request)][key].format(**values)
