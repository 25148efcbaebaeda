"""Sending email over SMTP (``KIM_SMTP_*``); only ever called from a job, never in a request."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app


def email_configured() -> bool:
    """Email is on when an SMTP host is set."""
    return bool(current_app.config.get("KIM_SMTP_HOST"))


def send_email(to: str, subject: str, text: str) -> None:
    """One plain-text message to ``to``; raises on any SMTP failure (the job retries)."""
    config = current_app.config
    sender = config.get("KIM_SMTP_SENDER") or "kim@localhost"
    message = EmailMessage()
    message["From"] = formataddr(("KIM", sender))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    with smtplib.SMTP(
        config["KIM_SMTP_HOST"], int(config.get("KIM_SMTP_PORT") or 25), timeout=30
    ) as smtp:
        if config.get("KIM_SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("KIM_SMTP_USER"):
            smtp.login(config["KIM_SMTP_USER"], config.get("KIM_SMTP_PASSWORD") or "")
        smtp.send_message(message)
