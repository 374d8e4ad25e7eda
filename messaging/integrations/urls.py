"""Webhook URL shapes of the platforms whose clients post here unchanged."""

from __future__ import annotations

from django.urls import path

from messaging.integrations import views

urlpatterns = [
    path("hooks/slack/<str:key>", views.slack_hook, name="hook_slack"),
    path("hooks/commands/<str:key>", views.command_response, name="hook_command_response"),
    path("hooks/<str:key>", views.mattermost_hook, name="hook_mattermost"),
    path("robot/send", views.dingtalk_robot, name="hook_dingtalk"),
    path("cgi-bin/webhook/send", views.wecom_robot, name="hook_wecom"),
    path("open-apis/bot/v2/hook/<str:key>", views.feishu_hook, name="hook_feishu"),
]
