"""Attendance: marks per registration and session (roll call, QR scan, self check-in), applied
once per client-generated id so that offline queues and replays never double-count."""
