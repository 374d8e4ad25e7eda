"""Conversations, participants, messages and the per-conversation event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.models import PartnerOrg, Workspace


class Conversation(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public channel")
        PRIVATE = "private", _("Private channel")
        DM = "dm", _("Direct message")
        GROUP = "group", _("Group")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=80, blank=True)
    topic = models.CharField(max_length=250, blank=True)
    purpose = models.CharField(max_length=250, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The last event's seq; incremented atomically (UPDATE ... SET last_seq = last_seq + 1)
    # inside the transaction that stores the event, so seqs are gap-free and ordered.
    last_seq = models.BigIntegerField(default=0)
    # "dm:<low user id>:<high user id>" so that a DM pair has exactly one conversation.
    dm_key = models.CharField(max_length=64, null=True, blank=True)
    shared_with: models.ManyToManyField[PartnerOrg, ConversationShare] = models.ManyToManyField(
        PartnerOrg, through="ConversationShare", related_name="shared_conversations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "dm_key"], name="conversation_unique_dm"),
        ]
        indexes = [models.Index(fields=["workspace", "kind"], name="conv_ws_kind")]

    def __str__(self) -> str:
        return self.name or f"{self.kind} #{self.pk}"

    @property
    def is_channel(self) -> bool:
        return self.kind in (self.Kind.PUBLIC, self.Kind.PRIVATE)


class ConversationShare(models.Model):
    """A channel shared with a partner organisation: that partner's guests may read and post."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    partner = models.ForeignKey(PartnerOrg, on_delete=models.CASCADE, related_name="shares")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "partner"], name="share_unique")]

    def __str__(self) -> str:
        return f"{self.conversation_id} shared with {self.partner_id}"


class Participant(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Channel manager")
        MEMBER = "member", _("Member")

    class Level(models.TextChoices):
        ALL = "all", _("All messages")
        MENTIONS = "mentions", _("Mentions only")
        NOTHING = "nothing", _("Nothing")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    # Leaving keeps the row (active=False) so re-joining keeps read state and history ids.
    active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_seq = models.BigIntegerField(default=0)
    notification_level = models.CharField(max_length=16, choices=Level.choices, default=Level.ALL)
    muted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="participant_unique")]
        indexes = [models.Index(fields=["user", "active"], name="participant_user_active")]

    def __str__(self) -> str:
        return f"user {self.user_id} in {self.conversation_id}"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The seq of the message.new event that created it.
    seq = models.BigIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField()
    body = models.TextField()
    html = models.TextField()
    thread_root = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    reply_count = models.PositiveIntegerField(default=0)
    last_reply_at = models.DateTimeField(null=True, blank=True)
    mentions = models.JSONField(default=list, blank=True)  # user ids mentioned
    mentions_all = models.BooleanField(default=False)
    forwarded_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Structured content (cards, buttons, charts) from bots, webhooks and the ERP bridge,
    # validated by messaging.blocks; people's messages have none.
    blocks = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Who deleted it (the author, or an admin / channel manager moderating).
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # Idempotent sends: a retried client_id finds the original instead of a copy.
            models.UniqueConstraint(fields=["sender", "client_id"], name="message_unique_client_id"),
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
        ]
        indexes = [models.Index(fields=["thread_root", "seq"], name="message_thread_seq")]

    def __str__(self) -> str:
        return f"message {self.pk} (#{self.seq} in {self.conversation_id})"


class Event(models.Model):
    """The per-conversation event log: what a reconnecting client replays after its cursor."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "seq"], name="event_unique_seq")]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} in {self.conversation_id}"


class MessageEdit(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    previous_body = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"edit of {self.message_id} at {self.edited_at:%Y-%m-%d %H:%M}"


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique")]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class Pin(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="pins")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="pin")
    pinned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    pinned_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"pin of {self.message_id}"


class SavedMessage(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_messages")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="saved_unique")]

    def __str__(self) -> str:
        return f"{self.message_id} saved by {self.user_id}"


class ThreadFollow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    root = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="followers")
    following = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "root"], name="thread_follow_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} follows {self.root_id}: {self.following}"


class Attachment(models.Model):
    """An uploaded file, stored under a generated name; served only to readers."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    thumbnail = models.FileField(upload_to="thumbnails/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name


class Mention(models.Model):
    """One row per mentioned person, so "my unread mentions" is an indexed query on any database
    (SQLite has no JSON containment lookup)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="mention_unique")]
        indexes = [models.Index(fields=["user", "conversation", "seq"], name="mention_user_conv_seq")]

    def __str__(self) -> str:
        return f"user {self.user_id} in message {self.message_id}"


class NotificationPrefs(models.Model):
    """A person's notification settings across workspaces: email digests and do-not-disturb
    hours, interpreted in ``User.time_zone`` (a shop owner in Urumqi and one in Shanghai both
    mean their own evening)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    email_enabled = models.BooleanField(default=True)
    # Minutes a notification must stay unread before it goes into an email digest.
    email_delay_minutes = models.PositiveIntegerField(default=10)
    # Quiet hours; when start > end the window wraps midnight (22:00-08:00).
    dnd_start = models.TimeField(null=True, blank=True)
    dnd_end = models.TimeField(null=True, blank=True)
    # What Web Push and forwarded notifications may show (messaging.delivery.compose): the
    # lock screen and third-party robots see only this much.
    push_preview = models.CharField(
        max_length=16,
        choices=[("none", _("Nothing")), ("sender", _("Sender only")), ("first_line", _("First line"))],
        default="sender",
    )

    def __str__(self) -> str:
        return f"notification prefs of {self.user_id}"


class PendingNotification(models.Model):
    """Something that should reach a person (mention, DM, followed-thread reply). The digest
    task emails the ones still unread after the delay and marks them sent (one email per burst)."""

    class Reason(models.TextChoices):
        MENTION = "mention", _("Mention")
        DM = "dm", _("Direct message")
        THREAD = "thread", _("Followed thread reply")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="pending_notification_unique")]
        indexes = [models.Index(fields=["emailed_at", "created_at"], name="pending_notification_due")]

    def __str__(self) -> str:
        return f"{self.reason} for {self.user_id}: message {self.message_id}"


# Notification channels (Web Push, forwarding) live in their own module of this app.
from messaging.delivery.models import ForwardTarget, NotifyCursor, NotifyDelivery, PushSubscription  # noqa: E402, F401
