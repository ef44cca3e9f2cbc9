"""Exporting runs (studio.export): the GGUF writer checked by reading its files back with transformers' own GGUF
loader, the merged folder against the adapter it merges, the Ollama Modelfile, refusals; and the check that
serves an exported GGUF with a real `transformers serve` and puts its EX next to the run's."""

from __future__ import annotations

import shutil

import pytest

from studio.errors import StudioError
from studio.export import export_run
from studio.export.gguf import write_gguf
from studio.prompts import make_prompt
from studio.settings import DEFAULT_MODEL, load_settings
from studio.ui.examples import GAME_DDL, QUESTIONS
from tests.test_leaderboard import Registry

PROMPT = make_prompt(GAME_DDL, QUESTIONS[0])


def _read_back(folder, name):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(folder, gguf_file=name),
            AutoTokenizer.from_pretrained(folder, gguf_file=name))


@pytest.fixture(scope="module")
def written(model_home, tmp_path_factory):
    """The offline model written as f16 and Q8_0 GGUF files."""
    source = model_home / "models" / DEFAULT_MODEL
    out = tmp_path_factory.mktemp("gguf")
    for kind in ("f16", "q8_0"):
        write_gguf(source, out / f"model.{kind}.gguf", kind)
    return source, out


def test_an_f16_gguf_reads_back_as_exactly_the_model_rounded_to_f16(written):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, out = written
    original = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).state_dict()
    model, tokenizer = _read_back(out, "model.f16.gguf")
    back = model.state_dict()
    assert set(back) == set(original)
    # Exact: the query and key permutation, the names and the shapes are all right, or some tensor differs.
    assert all(torch.equal(back[name], original[name].half().float()) for name in original)
    assert tokenizer(PROMPT)["input_ids"] == AutoTokenizer.from_pretrained(source)(PROMPT)["input_ids"]


def test_a_q8_0_gguf_is_the_model_within_its_quantization_error_and_half_the_size(written):
    import torch
    from transformers import AutoModelForCausalLM

    source, out = written
    original = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).state_dict()
    back = _read_back(out, "model.q8_0.gguf")[0].state_dict()
    for name, weights in original.items():
        if weights.dim() == 2:  # Q8_0: 32 values share a scale of max|w|/127, so an error is at most half of it
            assert (back[name] - weights).abs().max() <= weights.abs().max() / 254 + 1e-3, name
        else:
            assert torch.equal(back[name], weights), name  # norms stay f32
    assert (out / "model.q8_0.gguf").stat().st_size < 0.6 * (out / "model.f16.gguf").stat().st_size


def test_only_llama_models_are_written(tmp_path):
    (tmp_path / "config.json").write_text('{"architectures": ["GPT2LMHeadModel"]}')
    with pytest.raises(StudioError) as caught:
        write_gguf(tmp_path, tmp_path / "x.gguf")
    assert caught.value.key == "gguf_architecture" and "convert_hf_to_gguf.py" in str(caught.value)
    with pytest.raises(StudioError, match="GGUF type 'q4'"):
        write_gguf(tmp_path, tmp_path / "x.gguf", "q4")


@pytest.fixture
def lora_run(offline_model, tmp_path, monkeypatch):
    """A run of a random (non-zero) LoRA on the offline model, as a finished training leaves one, in a
    STUDIO_HOME of its own that shares the converted model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(offline_model.parent, target_is_directory=True)
    monkeypatch.setenv("STUDIO_HOME", str(home))
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(offline_model), config).save_pretrained(tmp_path / "lora")
    Registry(load_settings()).run("export-me", base_model=str(offline_model), adapter=tmp_path / "lora")
    return "export-me", tmp_path / "lora"


def test_a_merged_export_answers_as_the_adapter_on_its_base(lora_run, offline_model):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name, adapter = lora_run
    done = export_run(name, "merged", dtype="float32")
    folder = done.files[0]
    assert folder == load_settings().home / "exports" / name / "merged-float32" and (folder / "config.json").is_file()
    ids = AutoTokenizer.from_pretrained(folder)(PROMPT, return_tensors="pt")
    merged = AutoModelForCausalLM.from_pretrained(folder)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(offline_model), adapter)
    with torch.no_grad():
        assert torch.allclose(merged(**ids).logits, tuned(**ids).logits, atol=1e-3)
    assert not list(folder.parent.glob("*.partial"))


def test_an_ollama_export_is_a_gguf_and_a_modelfile_with_the_books_prompt(lora_run):
    name, _ = lora_run
    done = export_run(name, "ollama")
    gguf, modelfile = done.files
    assert gguf.name == f"{name}.Q8_0.gguf" and gguf.stat().st_size > 100_000_000
    text = modelfile.read_text(encoding="utf-8")
    assert text.startswith(f"FROM ./{gguf.name}\n")
    assert "### DDL:\n{{ .System }}" in text and "### Question:\n{{ .Prompt }}" in text
    assert "PARAMETER temperature 0" in text
    assert done.to_dict()["files"][0]["bytes"] == gguf.stat().st_size


def test_exports_refuse_what_they_cannot_do(lora_run):
    with pytest.raises(StudioError) as caught:
        export_run("no-such-run", "gguf")
    assert caught.value.key == "run_unknown"
    with pytest.raises(StudioError) as caught:
        export_run(lora_run[0], "onnx")
    assert caught.value.key == "export_bad_choice"


@pytest.mark.slow
def test_the_check_serves_the_gguf_and_puts_its_ex_next_to_the_runs(lora_run, sample_version_id, model_home):
    from studio.evaluate import list_evaluations
    from studio.export.check import check_export

    name, _ = lora_run
    shutil.copytree(model_home / "datasets", load_settings().home / "datasets")  # found, and registered
    gguf = export_run(name, "gguf").files[0]
    checked = check_export(name, gguf, sample_version_id, limit=2, max_new_tokens=16)
    assert (checked.rows, checked.gguf) == (2, gguf.name)
    assert 0 <= checked.run_ex <= 1 and 0 <= checked.gguf_ex <= 1 and 0 <= checked.same_sql <= 1
    stored = list_evaluations()
    assert set(stored["candidate"]) == {name, f"server:{gguf.name}"}
    assert set(stored["decoding"]) == {"free", "server-completions"}
