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
    "tab.train": "학습",
    "train.intro": "AutoTrain으로 LoRA 학습 작업을 만듭니다. 작업은 대기열에서 하나씩 실행되고, 끝나면 run으로 기록됩니다. 페이지를 새로 고쳐도 진행 상황이 이어집니다.",
    "train.preset": "프리셋 / 스윕",
    "train.preset_info": "autotrain_configs/의 YAML. 스윕을 고르면 아래 그리드의 모든 조합이 작업이 됩니다.",
    "train.dataset": "학습 데이터",
    "train.dataset_info": "준비된 데이터 세트 버전, 또는 text 열이 있는 train.csv가 든 폴더",
    "train.base_model": "베이스 모델",
    "train.params": "학습 파라미터 (괄호 안은 책의 값)",
    "train.grid": "스윕 그리드 (YAML, 비우면 작업 하나)",
    "train.yaml": "AutoTrain YAML 미리보기 (`autotrain --config`로 그대로 실행 가능)",
    "train.download": "YAML 내려받기",
    "train.start": "학습 시작",
    "train.queue": "대기열과 최근 작업",
    "train.job": "볼 작업",
    "train.job_info": "비워 두면 실행 중인(없으면 가장 최근) 작업을 따라갑니다.",
    "train.loss_curve": "학습 손실 (gradient accumulation 보정)",
    "train.log": "로그 끝부분",
    "train.cancel": "작업 취소",
    "train.help.project_name": "영문자, 숫자, 하이픈(40자 이하). 작업 번호가 붙어 run 이름이 됩니다.",
    "train.help.lr": "학습률",
    "train.help.epochs": "에폭 수",
    "train.help.batch_size": "장치당 배치 크기",
    "train.help.gradient_accumulation": "그래디언트 누적 단계 (유효 배치 = 배치 × 누적)",
    "train.help.block_size": "학습 시퀀스 길이(토큰). 모델의 최대 길이를 넘을 수 없습니다.",
    "train.help.warmup_ratio": "학습률 워밍업 비율",
    "train.help.weight_decay": "가중치 감쇠",
    "train.help.lora_r": "LoRA 랭크 r (1 이상)",
    "train.help.lora_alpha": "LoRA alpha (보통 2 × r)",
    "train.help.lora_dropout": "LoRA 드롭아웃",
    "train.help.target_modules": "all-linear 또는 q_proj,v_proj 같은 모듈 이름",
    "train.help.quantization": "int4/int8은 GPU 전용 (QLoRA)",
    "train.help.mixed_precision": "fp16/bf16은 GPU 전용",
    "train.help.optimizer": "옵티마이저",
    "train.help.scheduler": "학습률 스케줄러",
    "train.help.seed": "난수 시드",
    "train.help.merge_adapter": "학습 후 어댑터를 베이스 모델에 병합해 저장",
    "train.help.gradient_checkpointing": "GPU 메모리를 아끼지만 CPU에서는 약 30% 느려집니다.",
    "train.help.data_fraction": "학습 행 중 사용할 비율 (시드 고정 표본)",
    "train.help.logging_steps": "몇 단계마다 손실을 기록할지",
    "train.help.max_grad_norm": "그래디언트 클리핑 노름",
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
    "tab.train": "Train",
    "train.intro": "Create LoRA training jobs with AutoTrain. Jobs run one at a time from the queue and become runs when they finish. Progress survives a page reload.",
    "train.preset": "Preset / sweep",
    "train.preset_info": "a YAML in autotrain_configs/. With a sweep, every combination of the grid below becomes a job.",
    "train.dataset": "Training data",
    "train.dataset_info": "a prepared data set version, or a folder holding train.csv with a text column",
    "train.base_model": "Base model",
    "train.params": "Training parameters (the book's values in brackets)",
    "train.grid": "Sweep grid (YAML; empty for one job)",
    "train.yaml": "AutoTrain YAML preview (runs as is with `autotrain --config`)",
    "train.download": "Download YAML",
    "train.start": "Start training",
    "train.queue": "Queue and recent jobs",
    "train.job": "Job to watch",
    "train.job_info": "leave empty to follow the running job (else the newest).",
    "train.loss_curve": "Training loss (corrected for gradient accumulation)",
    "train.log": "Log tail",
    "train.cancel": "Cancel job",
    "train.help.project_name": "letters, digits, hyphens (≤ 40); the job number is appended to make the run name",
    "train.help.lr": "learning rate",
    "train.help.epochs": "number of epochs",
    "train.help.batch_size": "batch size per device",
    "train.help.gradient_accumulation": "gradient accumulation steps (effective batch = batch × accumulation)",
    "train.help.block_size": "training sequence length in tokens; at most the model's context length",
    "train.help.warmup_ratio": "share of steps warming up the learning rate",
    "train.help.weight_decay": "weight decay",
    "train.help.lora_r": "LoRA rank r (at least 1)",
    "train.help.lora_alpha": "LoRA alpha (often 2 × r)",
    "train.help.lora_dropout": "LoRA dropout",
    "train.help.target_modules": "all-linear, or module names such as q_proj,v_proj",
    "train.help.quantization": "int4/int8 need a GPU (QLoRA)",
    "train.help.mixed_precision": "fp16/bf16 need a GPU",
    "train.help.optimizer": "optimizer",
    "train.help.scheduler": "learning-rate scheduler",
    "train.help.seed": "random seed",
    "train.help.merge_adapter": "merge the adapter into the base model after training",
    "train.help.gradient_checkpointing": "saves GPU memory; about 30% slower on a CPU",
    "train.help.data_fraction": "share of the training rows to use (a seeded sample)",
    "train.help.logging_steps": "log the loss every this many steps",
    "train.help.max_grad_norm": "gradient clipping norm",
}

# Run-time messages, formatted with str.format.
MESSAGES = {
    "ko": {
        "loading": "모델 준비 중 (처음 한 번은 변환에 30초 정도 걸립니다)…",
        "generating": "SQL 생성 중…",
        "generated": "생성 완료: {tokens}개 토큰, {seconds:.1f}초 (모델 로딩 {load:.1f}초)",
        "no_sql": "모델이 SQL 문을 만들지 못했습니다. 원본 출력을 확인하세요.",
        "runs_on_schema": "✅ 스키마에서 실행됩니다 (DDL로 만든 빈 데이터베이스).",
        "fails_on_schema": "❌ 스키마에서 실행되지 않습니다: {message}",
        "empty_question": "질문을 입력하세요.",
        "empty_ddl": "DDL을 입력하세요.",
        "unexpected": "예상하지 못한 오류가 발생했습니다: {error}",
        "train_env": "학습 환경: {hardware} · AutoTrain {autotrain} · transformers {transformers}",
        "train_env_missing": "AutoTrain 환경을 쓸 수 없습니다: {error}",
        "train_queued": "작업 {count}개를 대기열에 넣었습니다: {names}",
        "train_cancelled": "{name}: {status}",
        "train_no_jobs": "아직 작업이 없습니다.",
        "train_no_dataset": "학습 데이터를 고르세요.",
        "train_step": "{step}/{total} 단계",
        "train_elapsed": "경과 {clock}",
        "train_remaining": "남은 시간 약 {clock}",
        "train_loss": "손실 {loss:.4f}",
        "train_reason": "이유: {error}",
        "train_status_queued": "대기 중",
        "train_status_running": "실행 중",
        "train_status_succeeded": "성공",
        "train_status_failed": "실패",
        "train_status_cancelled": "취소됨",
        "train_status_interrupted": "중단됨",
    },
    "en": {
        "loading": "Preparing the model (the first time, conversion takes about 30 s)…",
        "generating": "Generating SQL…",
        "generated": "Done: {tokens} tokens in {seconds:.1f} s (model loading {load:.1f} s)",
        "no_sql": "The model produced no SQL statement; see its raw completion.",
        "runs_on_schema": "✅ Runs against the schema (an empty database built from the DDL).",
        "fails_on_schema": "❌ Does not run against the schema: {message}",
        "empty_question": "Enter a question.",
        "empty_ddl": "Enter a DDL.",
        "unexpected": "An unexpected error occurred: {error}",
        "train_env": "Training on: {hardware} · AutoTrain {autotrain} · transformers {transformers}",
        "train_env_missing": "The AutoTrain environment cannot be used: {error}",
        "train_queued": "Queued {count} job(s): {names}",
        "train_cancelled": "{name}: {status}",
        "train_no_jobs": "No jobs yet.",
        "train_no_dataset": "Choose the training data.",
        "train_step": "step {step}/{total}",
        "train_elapsed": "{clock} elapsed",
        "train_remaining": "about {clock} left",
        "train_loss": "loss {loss:.4f}",
        "train_reason": "reason: {error}",
        "train_status_queued": "queued",
        "train_status_running": "running",
        "train_status_succeeded": "succeeded",
        "train_status_failed": "failed",
        "train_status_cancelled": "cancelled",
        "train_status_interrupted": "interrupted",
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
