"""Renders a template into subject, text and HTML parts, in the recipient's locale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import css_inline
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"


@dataclass(frozen=True)
class RenderedMessage:
    """One e-mail ready to send: a one-line subject, a plain-text part and an HTML part."""

    subject: str
    text: str
    html: str


def format_datetime(value: datetime | str | None, locale: str = DEFAULT_LOCALE) -> str:
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%d.%m.%Y %H:%M UTC" if locale == "ru" else "%Y-%m-%d %H:%M UTC")


def pick_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


class TemplateRenderer:
    """Jinja2 with autoescaping for HTML (never for text), one shared layout, CSS inlined."""

    def __init__(self, *, extra_dir: str = "") -> None:
        loaders: list[Any] = [PackageLoader("docflow_mail", "templates/files")]
        if extra_dir:
            loaders.insert(0, FileSystemLoader(extra_dir))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",),
                                         default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # the built-in templates change only with a deployment: no file checks per message
            # unless an operator keeps overrides, whose fixes count from the next message
            auto_reload=bool(extra_dir),
        )
        self.env.filters["datetime"] = format_datetime
        self.inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

    def exists(self, template: str) -> bool:
        names = set(self.env.list_templates())
        return all(f"{template}.{loc}.{ext}" in names for loc in LOCALES for ext in ("txt", "html"))

    def render(self, template: str, locale: str, context: Mapping[str, Any]) -> RenderedMessage:
        """Raises jinja2 errors when the template is missing or its data is incomplete."""
        locale = pick_locale(locale)
        variables = {**context, "locale": locale}
        text_template = self.env.get_template(f"{template}.{locale}.txt")
        subject_block = text_template.blocks["subject"]
        subject = "".join(subject_block(text_template.new_context(variables)))
        text = text_template.render(variables)
        html = self.env.get_template(f"{template}.{locale}.html").render(variables)
        return RenderedMessage(
            subject=" ".join(subject.split())[:250],
            text=text.strip() + "\n",
            html=self.inliner.inline(html),
        )
