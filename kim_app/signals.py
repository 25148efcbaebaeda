"""What happened, told to whoever listens. Notices build on accounts, KIM and events (a message
names the KIM, the event, the ticket), so those packages never import notices: where something
happens that people must be told, the package sends one of these signals, and
``kim_app.notices.operations`` connects a receiver to each. Every signal is sent with its subject
as the sender and ``by``, the account that did it (None for the public), plus what its comment
names; receivers run in the request's transaction, like any other write of the operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from blinker import Namespace

_happened = Namespace()

# sender: the Kim; note (the verifier's note), by
kim_status_changed = _happened.signal("kim-status-changed")
# sender: the Event; quotas (KIM id → seats), by
kims_invited = _happened.signal("kims-invited")
# sender: the Event (just published), by
event_published = _happened.signal("event-published")
# sender: the new draft Event; source (the Event it was cloned from), by
event_cloned = _happened.signal("event-cloned")
# sender: the Event whose time or place changed, by
event_changed = _happened.signal("event-changed")
# sender: the Event (just cancelled), by
event_cancelled = _happened.signal("event-cancelled")
# sender: the Event; registrations (made for people by an operator or a pengurus), by
tickets_prepared = _happened.signal("tickets-prepared")
# sender: the Registration that took a freed seat from the waiting list, by
promoted = _happened.signal("promoted")
# sender: the User whose owner asked for a new password
reset_requested = _happened.signal("reset-requested")
# sender: the ActivityReport an operator returned for a fix or hid (its note says why), by
activity_reviewed = _happened.signal("activity-reviewed")
# sender: the competition Entry after the committee's check; by
entry_checked = _happened.signal("entry-checked")
# sender: the InfoItem an operator just sent to the KIM of an area, by
info_sent = _happened.signal("info-sent")
# sender: the PreparedFile the worker has finished (ready or failed)
file_finished = _happened.signal("file-finished")


class Requirement(NamedTuple):
    """A condition a certificate holder must meet beyond attendance: an SQL condition on the
    registration (true where nothing is asked), and what states it ("" when nothing is)."""

    condition: Any
    text: Callable[[], str]


# sender: the Event whose certificates are decided; each receiver returns a Requirement
# (evaluation: "sent the post-test", when the operator asks for it)
certificate_requirements = _happened.signal("certificate-requirements")
