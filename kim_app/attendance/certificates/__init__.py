"""Certificates of attendance: the event's attendance and certificate settings, issuing to the
eligible, the PDFs and the public verification page /v/<code>. A topic sub-package of attendance
with the same layer files: queries (the rule, who earned one, finding), operations (issuing,
settings, images), forms (the settings form), documents (the PDF), routes (the views)."""

from kim_app.attendance.certificates import routes  # noqa: F401  (views register on attendance.bp)
