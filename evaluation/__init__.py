"""Scoring library for Text2SQL predictions: extraction, execution match and an LLM judge.

Usable without the app (`python -m evaluation score ...`); imports nothing from `studio`.
"""
