"""The training configuration: validation messages, presets and sweeps, and YAML that AutoTrain accepts."""

import json
import subprocess
import textwrap

import pytest
import yaml

from studio.training.config import ConfigError, TrainingConfig, check_runnable, resolve_mixed_precision
from studio.training.probe_env import cpu_has_native_bf16
from studio.training.presets import PRESETS_DIR, expand, load_configs, load_sweep
from tests.training_fixtures.support import REAL_AUTOTRAIN_PYTHON, fake_model


def problems(**values) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        TrainingConfig.from_dict(values)
    return raised.value.problems


@pytest.mark.parametrize("values, message", [
    ({"lora_r": 0}, "lora_r must be in [1, 1024] (the rank of the LoRA matrices), got 0"),
    ({"lr": -0.001}, "lr must be in (0, 1] (the learning rate), got -0.001"),
    ({"lr": 0}, "lr must be in (0, 1]"),
    ({"warmup_ratio": -0.1}, "warmup_ratio must be in [0, 1)"),
    ({"weight_decay": -1}, "weight_decay must be in [0, 1]"),
    ({"lora_dropout": 1.0}, "lora_dropout must be in [0, 1)"),
    ({"data_fraction": 0}, "data_fraction must be in (0, 1]"),
    ({"epochs": 0}, "epochs must be in [1, 100]"),
    # Upper bounds: a typo is refused, not queued; and every number is finite.
    ({"epochs": "1e9"}, "epochs must be in [1, 100] (passes over the training rows), got 1000000000"),
    ({"batch_size": 99999999999}, "batch_size must be in [1, 1024]"),
    ({"gradient_accumulation": 1025}, "gradient_accumulation must be in [1, 1024]"),
    ({"block_size": 65536}, "block_size must be in [8, 32768]"),
    ({"lora_r": 2048}, "lora_r must be in [1, 1024]"),
    ({"lr": "nan"}, "lr must be in (0, 1] (the learning rate), got nan"),
    ({"max_grad_norm": "inf"}, "max_grad_norm must be in (0, 1000]"),
    ({"seed": -1}, "seed must be in [0, 4294967295]"),
    ({"seed": 2**32}, "seed must be in [0, 4294967295]"),
    ({"epochs": "inf"}, "epochs: expected a whole number, got 'inf'"),
    ({"project_name": "my_project!"}, "project_name 'my_project!' must be letters, digits and hyphens"),
    ({"project_name": "x" * 41}, "at most 40 characters"),
    ({"quantization": "int3"}, "quantization 'int3' is not one of: none, int4, int8"),
    ({"target_modules": "q_proj;v_proj"},
     "target_modules 'q_proj;v_proj' must be all-linear or comma-separated"),
    ({"lora_r": 16.5}, "lora_r: expected a whole number, got 16.5"),
    ({"lora_rank": 8}, "unknown parameter 'lora_rank'"),
    ({"backend": "spaces-t4-small"},
     "backend spaces-t4-small runs the job on a Hugging Face Space: set hub_username"),
])
def test_invalid_values_get_a_clear_message(values, message):
    assert any(message in p for p in problems(**values)), problems(**values)


def test_every_problem_is_reported_at_once():
    found = problems(lora_r=0, lr=-1, epochs=0)
    assert [p.split()[0] for p in found] == ["lr", "epochs", "lora_r"]


def test_loose_values_from_forms_are_coerced():
    config = TrainingConfig.from_dict({"lora_r": 8.0, "epochs": "2", "merge_adapter": "false", "lr": "3e-4",
                                       "quantization": None})
    assert (config.lora_r, config.epochs, config.merge_adapter, config.lr, config.quantization) == \
        (8, 2, False, 3e-4, "none")


def test_gpu_only_settings_are_refused_on_a_cpu_machine(tmp_path):
    config = TrainingConfig(quantization="int4", mixed_precision="fp16", optimizer="paged_adamw_8bit")
    with pytest.raises(ConfigError) as raised:
        check_runnable(config, has_gpu=False, model_dir=None)
    assert [p.split()[0] for p in raised.value.problems] == ["quantization", "mixed_precision", "optimizer"]
    assert "needs a CUDA GPU" in raised.value.problems[0]
    check_runnable(config, has_gpu=True, model_dir=None)  # fine with a GPU


def test_bf16_on_a_cpu_runs_only_where_the_cpu_multiplies_bfloat16_natively():
    bf16 = TrainingConfig(mixed_precision="bf16")
    with pytest.raises(ConfigError, match="without AVX512-BF16 or AMX is emulated, slower than fp32"):
        check_runnable(bf16, has_gpu=False, model_dir=None, cpu_bf16=False)
    check_runnable(bf16, has_gpu=False, model_dir=None, cpu_bf16=True)
    with pytest.raises(ConfigError, match="mixed_precision fp16 needs a GPU"):
        check_runnable(TrainingConfig(mixed_precision="fp16"), has_gpu=False, model_dir=None, cpu_bf16=True)


@pytest.mark.parametrize("backend, has_gpu, bf16, chosen", [
    ("local", False, True, "bf16"),  # a CPU with AVX512-BF16 or AMX
    ("local", False, False, "none"),  # any other CPU: fp32, as before
    ("local", True, True, "bf16"),
    ("local", True, False, "fp16"),  # a GPU before Ampere
    ("spaces-t4-small", False, False, "fp16"),  # judged by the Space's GPU, not this machine
    ("spaces-a10g-large", False, False, "bf16"),
])
def test_auto_mixed_precision_is_made_concrete_for_the_machine_that_trains(backend, has_gpu, bf16, chosen):
    config = TrainingConfig(mixed_precision="auto", backend=backend, hub_username="me")
    resolved = resolve_mixed_precision(config, has_gpu=has_gpu, bf16=bf16)
    assert resolved.mixed_precision == chosen
    assert resolve_mixed_precision(resolved, has_gpu=True, bf16=True) == resolved  # concrete values stay


def test_auto_is_the_studios_word_plain_autotrain_reads_null():
    config = TrainingConfig(mixed_precision="auto")
    document = yaml.safe_load(config.to_yaml())
    assert document["params"]["mixed_precision"] is None and document["studio"]["mixed_precision"] == "auto"
    assert TrainingConfig.from_yaml(config.to_yaml()) == config
    assert config.training_params(model="m", project_name="p", data_path="d")["mixed_precision"] is None


@pytest.mark.parametrize("flags, native", [
    ("fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni", True),
    ("fpu sse2 avx2 amx_bf16 amx_tile", True),
    ("fpu sse2 avx2 avx512f avx512bw", False),  # AVX-512 without BF16: torch emulates it
])
def test_the_probe_reads_native_bf16_from_the_cpu_flags(tmp_path, flags, native):
    (tmp_path / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n\n", encoding="utf-8")
    assert cpu_has_native_bf16(str(tmp_path / "cpuinfo")) is native
    assert cpu_has_native_bf16(str(tmp_path / "absent")) is False


def test_a_block_size_the_model_cannot_take_is_refused(tmp_path):
    model = fake_model(tmp_path / "model", context=512)
    check_runnable(TrainingConfig(block_size=512), has_gpu=False, model_dir=model)
    with pytest.raises(ConfigError, match=r"block_size 1024 is longer than the model can take "
                                          r"\(max_position_embeddings = 512\)"):
        check_runnable(TrainingConfig(block_size=1024), has_gpu=False, model_dir=model)


def test_yaml_round_trip_keeps_every_value():
    config = TrainingConfig(lora_r=8, lora_alpha=16, lr=1e-4, quantization="int8", mixed_precision="bf16",
                            gradient_checkpointing=False, data_fraction=0.4, merge_adapter=True,
                            target_modules="q_proj,v_proj", project_name="round-trip")
    assert TrainingConfig.from_yaml(config.to_yaml()) == config


def test_yaml_is_portable_and_holds_no_token():
    document = yaml.safe_load(TrainingConfig().to_yaml())
    assert document["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"  # the built-in model's Hub id
    assert document["studio"]["base_model"] == "smollm2-135m-instruct"
    assert document["data"]["valid_split"] is None and "hub" not in document
    space = yaml.safe_load(TrainingConfig(backend="spaces-a10g-large", hub_username="me").to_yaml())
    assert space["hub"] == {"username": "me", "token": "${HF_TOKEN}", "push_to_hub": True}


def test_the_book_preset_has_the_books_flags():
    book = load_configs("book-qlora-gpu")[0]
    assert (book.base_model, book.project_name) == ("beomi/Yi-Ko-6B", "yi-ko-6b-text2sql")
    assert (book.lr, book.batch_size, book.epochs) == (2e-4, 8, 1)
    assert (book.block_size, book.warmup_ratio) == (1024, 0.1)
    assert (book.lora_r, book.lora_alpha, book.lora_dropout, book.weight_decay) == (16, 32, 0.05, 0.01)
    assert (book.gradient_accumulation, book.mixed_precision, book.quantization) == (8, "fp16", "int4")


def test_a_sweep_expands_its_grid_with_telling_names():
    sweep = load_sweep("sweep-lora-r-alpha.yml")
    configs = sweep.configs()
    assert [(c.lora_r, c.lora_alpha) for c in configs] == [(8, 16), (8, 32), (16, 16), (16, 32)]
    assert [c.project_name for c in configs] == [
        "smollm2-cpu-lora-r8-a16", "smollm2-cpu-lora-r8-a32", "smollm2-cpu-lora-r16-a16",
        "smollm2-cpu-lora-r16-a32"]
    assert {c.block_size for c in configs} == {sweep.base.block_size}


def test_a_sweep_over_models_and_fractions(tmp_path):
    (tmp_path / "sweep.yml").write_text(textwrap.dedent(f"""\
        sweep:
          preset: {PRESETS_DIR / 'cpu-lora.yml'}
          set: {{epochs: 2}}
          grid:
            base_model: [smollm2-135m-instruct, Qwen/Qwen2.5-0.5B]
            data_fraction: [0.5, 1.0]
        """))
    configs = load_configs(tmp_path / "sweep.yml")
    assert len(configs) == 4 and {c.epochs for c in configs} == {2}
    assert [c.project_name for c in configs][:2] == ["smollm2-cpu-lora-b1-f50", "smollm2-cpu-lora-b1-f100"]


def test_a_bad_grid_is_refused():
    with pytest.raises(ConfigError, match="grid: unknown parameter 'lora_rank'"):
        expand({}, "lora_rank: [8]")
    with pytest.raises(ConfigError, match=r"lora_r must be in \[1, 1024\]"):
        expand({}, "lora_r: [0, 8]")


def test_autotrain_itself_accepts_the_yaml_and_the_params(tmp_path):
    """AutoTrain's own config parser reads every preset and a rendered configuration; its parameter model
    accepts the training_params.json the runner writes."""
    rendered = tmp_path / "rendered.yml"
    rendered.write_text(TrainingConfig(lora_r=4, quantization="int8").to_yaml(project_name="rendered-1"))
    params = tmp_path / "training_params.json"
    values = TrainingConfig().training_params(model="m", project_name="p-1", data_path="d")
    params.write_text(json.dumps(values))
    files = [str(rendered), str(PRESETS_DIR / "book-qlora-gpu.yml"), str(PRESETS_DIR / "cpu-lora.yml")]
    script = textwrap.dedent(f"""
        import json, sys
        from autotrain.parser import AutoTrainConfigParser
        from autotrain.trainers.clm.params import LLMTrainingParams
        for path in {files!r}:
            parsed = AutoTrainConfigParser(path)
            params = LLMTrainingParams(**parsed.parsed_config)
            print(json.dumps({{"task": parsed.task, "trainer": params.trainer, "lora_r": params.lora_r,
                              "quantization": params.quantization, "peft": params.peft}}))
        LLMTrainingParams(**json.load(open({str(params)!r})))
        """)
    done = subprocess.run([str(REAL_AUTOTRAIN_PYTHON), "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert parsed == [
        {"task": "lm_training", "trainer": "sft", "lora_r": 4, "quantization": "int8", "peft": True},
        {"task": "lm_training", "trainer": "sft", "lora_r": 16, "quantization": "int4", "peft": True},
        {"task": "lm_training", "trainer": "sft", "lora_r": 16, "quantization": None, "peft": True},
    ]
