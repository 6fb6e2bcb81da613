"""The instructor's side of the workbook, left out of the student pack: grading, the pack, re-recording.

It imports helpers/ (the verdict format, the settings), never the reverse.
"""
