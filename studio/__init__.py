"""Text2SQL LoRA Studio: fine-tune small LLMs to write SQL from Korean questions, with AutoTrain and LoRA."""

__version__ = "0.1.0"
