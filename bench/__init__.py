"""Evaluation and benchmark commands (`python -m bench.NAME`); never imported by qa, index or ui."""
