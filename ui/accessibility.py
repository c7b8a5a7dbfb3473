"""The accessibility statement at `/accessibility`, in the form UK public-sector sites publish.

The text is `accessibility.html` beside this module; the site's title and the contact for
reporting a problem (`QA_CONTACT`, qa/config.py) are filled in, escaped, when the page is served.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from string import Template

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from qa.config import SETTINGS
from ui.render import text

PAGE = Path(__file__).with_name("accessibility.html")
PATH = "/accessibility"
# Said when no QA_CONTACT is configured: the reader still learns whom to ask.
NO_CONTACT = "the person or team that gave you access to this service"


def contact_html(contact: str) -> str:
    """`contact` as HTML: an e-mail address or a web address becomes a link, other words stay text.

    >>> contact_html("access@example.nhs.uk")
    '<a href="mailto:access@example.nhs.uk">access@example.nhs.uk</a>'
    >>> contact_html("")
    'the person or team that gave you access to this service'
    """
    contact = contact.strip()
    if not contact:
        return NO_CONTACT
    if contact.lower().startswith(("http://", "https://")):
        return f'<a href="{text(contact)}">{text(contact)}</a>'
    if "@" in contact and " " not in contact:
        return f'<a href="mailto:{text(contact)}">{text(contact)}</a>'
    return text(contact)


def statement_html(title: str, contact: str = SETTINGS.contact) -> str:
    """The whole statement page for the site called `title`."""
    return Template(PAGE.read_text(encoding="utf-8")).substitute(title=text(title), contact=contact_html(contact))


def mount_accessibility(app: FastAPI, title: Callable[[], str], contact: str = SETTINGS.contact) -> None:
    """Serve the statement at `/accessibility` on `app` (before a catch-all such as the chat at "/").

    `title` gives the site's title at the time of each request, since it follows what is indexed.
    """

    async def accessibility() -> HTMLResponse:
        return HTMLResponse(statement_html(title(), contact))

    app.add_api_route(PATH, accessibility, methods=["GET"], include_in_schema=False)
