"""Test support that ships with the studio: a stand-in for the Hugging Face Hub's HTTP API."""
