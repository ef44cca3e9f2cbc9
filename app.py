"""Gradio entry point (`python app.py`, or a Space): builds the studio's UI and launches it."""

import os

from studio.ui.app import launch

if __name__ == "__main__":
    launch(host=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
           port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
