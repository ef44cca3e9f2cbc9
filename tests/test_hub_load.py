"""An adapter pushed to the Hub loads back by repo id, cached under STUDIO_HOME, on the offline SmolLM2."""

import socket

import pytest

from studio.errors import StudioError
from studio.hub import PushSource, push_run
from studio.models import adapter_base_model, resolve_adapter
from tests.test_hub_standin import ALICE, standin_hub

hub = pytest.fixture(standin_hub)

PROMPT = "### Question:\n레벨이 10 이상인 플레이어는?\n\n### SQL:\n"


@pytest.mark.slow
def test_a_pushed_adapter_loads_by_repo_id_and_generates(hub, offline_model, tmp_path, monkeypatch):
    # `hub` before `offline_model`: both point STUDIO_HOME somewhere, and the converted model's home must win.
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from studio.inference import GenerationOptions, Generator, LoadOptions
    from studio.models import resolve_model

    ids = AutoTokenizer.from_pretrained(offline_model)(PROMPT, return_tensors="pt")
    base = AutoModelForCausalLM.from_pretrained(offline_model)
    torch.manual_seed(0)
    with torch.no_grad():
        base_logits = base(**ids).logits[0, -1]
        tuned = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False))
        tuned_logits = tuned(**ids).logits[0, -1]
    tuned.save_pretrained(tmp_path / "adapter")  # names the local base folder, as AutoTrain's adapters do
    push_run(PushSource(folder=tmp_path / "adapter", name="smollm2-book", base_model=str(offline_model)))

    folder = resolve_adapter(f"{ALICE}/smollm2-book")
    assert folder.is_relative_to(offline_model.parent.parent / "cache" / "hub")
    assert adapter_base_model(folder) == "smollm2-135m-instruct"  # the Hub id maps back to the built-in
    with pytest.raises(StudioError, match="is a LoRA adapter, not a model: .* base model smollm2-135m"):
        resolve_model(f"{ALICE}/smollm2-book")
    generator = Generator(resolve_model(adapter_base_model(folder)), LoadOptions(adapter=folder))
    with torch.no_grad():
        loaded_logits = generator.model(**ids).logits[0, -1]
    assert torch.allclose(loaded_logits, tuned_logits, atol=1e-4)
    assert not torch.allclose(loaded_logits, base_logits, atol=1e-4)  # the adapter is really applied
    assert generator.generate([PROMPT], GenerationOptions(max_new_tokens=4))[0].new_tokens > 0

    with socket.socket() as sock:  # the Hub goes away: the cached copy still loads
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{sock.getsockname()[1]}")
    assert resolve_adapter(f"{ALICE}/smollm2-book") == folder


def test_a_missing_adapter_repo_is_a_clear_error(hub):
    with pytest.raises(StudioError, match="not found"):
        resolve_adapter(f"{ALICE}/no-such-adapter")
