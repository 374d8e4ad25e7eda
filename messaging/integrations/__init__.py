"""Integrations: incoming webhooks in the shapes of Slack, Mattermost, DingTalk, WeCom and
Feishu robots; outgoing event subscriptions for bots; slash commands served by external apps.
See docs/integrations.md."""
