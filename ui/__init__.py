"""The Gradio web chat: a thin layer over `qa` (run it with `python -m ui`)."""
