"""Monitoring (monev) of KIM activity: for an area and a year, each KIM's reports, relays,
attendance and certificates, its members and the completeness of its data, combined into an
activity score whose formula the page states and whose weights an area's operators may set;
KIM without activity for some months flagged; the most and least active KIM and areas; exports
and the summary as PDF and DOCX. Its views register on the activity blueprint."""
