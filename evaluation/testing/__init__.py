"""Test support that ships with the library: an OpenAI stand-in server and a sample game database."""
