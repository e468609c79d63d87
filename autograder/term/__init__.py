"""The instructor's term around the batches: the course calendar and late work (calendar), the roster and grade
export to an LMS (roster, lms, export), copying between submissions (similarity) and when feedback reaches
students (feedback)."""
