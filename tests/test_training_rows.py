"""How many and which training rows a job takes (data_fraction, max_train_rows), and full fine-tuning (peft)
in the configuration a job writes."""

import csv

import pytest

from studio.training.config import ConfigError, TrainingConfig
from studio.training.data_input import TrainingData, job_rows, write_job_data


@pytest.mark.parametrize("available, fraction, cap, rows", [
    (1000, 1.0, 0, 1000), (1000, 1.0, 440, 440), (1000, 0.2, 440, 200), (300, 1.0, 440, 300), (7, 0.01, 0, 1),
])
def test_a_job_takes_its_share_at_most_the_cap(available, fraction, cap, rows):
    assert job_rows(available, fraction, cap) == rows


def written(path) -> list[str]:
    with open(path / "train.csv", newline="", encoding="utf-8") as handle:
        return [row[0] for row in list(csv.reader(handle))[1:]]


def test_capped_samples_are_seeded_and_nested(tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    with open(source / "train.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text"], *[[f"row {i}"] for i in range(100)]])
    data = TrainingData(ref=str(source), version=None, folder=source, rows=100)
    assert write_job_data(data, 1.0, 42, tmp_path / "a", max_rows=30) == 30
    assert write_job_data(data, 1.0, 42, tmp_path / "b", max_rows=10) == 10
    write_job_data(data, 1.0, 42, tmp_path / "c", max_rows=30)
    small, big = written(tmp_path / "b"), written(tmp_path / "a")
    assert written(tmp_path / "c") == big and set(small) < set(big)  # same seed: the same, nested samples
    write_job_data(data, 1.0, 7, tmp_path / "d", max_rows=30)
    assert written(tmp_path / "d") != big


def test_full_fine_tuning_and_the_cap_survive_the_yaml_round_trip():
    config = TrainingConfig(peft=False, max_train_rows=280, lr=2e-4)
    assert config.autotrain_params()["peft"] is False
    again = TrainingConfig.from_yaml(config.to_yaml(data_path="data/"))
    assert (again.peft, again.max_train_rows) == (False, 280)
    assert TrainingConfig.from_yaml(TrainingConfig().to_yaml(data_path="data/")).peft is True


def test_the_shipped_cpu_preset_caps_its_rows():
    from studio.training.presets import load_sweep

    assert load_sweep("cpu-lora.yml").base.max_train_rows == 440


@pytest.mark.parametrize("bad", [-1, 10**8, 1.5])
def test_the_cap_is_a_bounded_whole_number(bad):
    with pytest.raises(ConfigError):
        TrainingConfig.from_dict({"max_train_rows": bad})
