"""Notifications that reach a phone: Web Push to the installed web app, and per-person
forwarding of one's own mentions and DMs to a WeCom / DingTalk / Feishu robot, an email
address or any apprise URL (docs/notifications.md).

The pipeline, in the django-tasks worker, never in a request:

``PendingNotification`` rows (queued by ``messaging.notifications`` in the sending
transaction) → ``pipeline.collect`` (after a short coalescing window, outside do-not-disturb
hours, within the hourly rate limit) turns everything new for one person into one
``NotifyDelivery`` per channel → ``pipeline.send`` composes the notice *at delivery time*
(``compose``: access, read state, mute and level re-checked; preview per the person's
setting) and hands it to ``webpush`` or ``forward``, retrying with back-off.

Modules: ``models`` (rows), ``access`` (fetch-or-404), ``actions`` (every write),
``crypto`` (secrets sealed at rest, masked when shown), ``netguard`` (only public hosts),
``vapid`` (the server's Web Push key), ``compose``, ``robots`` (WeCom / DingTalk / Feishu
payloads and signatures), ``webpush``, ``forward``, ``pipeline``, ``tasks``, ``schemas``,
``api``."""
