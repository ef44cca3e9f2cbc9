"""The Gradio UI: one module per tab, assembled in `app.py`. No business logic lives here."""
