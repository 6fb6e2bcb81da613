"""What every part of the workbook shares: the environment tests and kernels run in, and the editions.

Standard library only: workbook.py imports it on a bare system Python, before .venv/ exists.
"""
