"""What the page calls itself and offers to ask, taken from what is indexed.

The bundled article's own wording ("Ask about collective leadership" and its example questions)
is the default only while the article is what is indexed; other content gets a title from its
documents' titles and no example questions unless some are configured. `QA_SITE_TITLE` and
`QA_EXAMPLES` (qa/config.py) override both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.config import ARTICLE_SITE_TITLE, ARTICLE_SOURCE, SETTINGS, Settings

if TYPE_CHECKING:
    from qa import IndexInfo

# A title longer than this is not put in the heading; a neutral one is used.
_TITLE_CHARS = 80


@dataclass(frozen=True)
class Site:
    """The page's title (tab and heading), example questions and question-box placeholder."""

    title: str
    examples: tuple[str, ...]
    placeholder: str


def site_for(info: IndexInfo, settings: Settings = SETTINGS) -> Site:
    """The site's wording for the index described by `info`.

    >>> from qa import DocumentInfo, IndexInfo
    >>> one = IndexInfo(".", [DocumentInfo("falls.txt", "Falls on ward 7", 3)], 3, "", "")
    >>> site_for(one).title, site_for(one).examples
    ('Ask about “Falls on ward 7”', ())
    """
    sources = {d.source for d in info.documents}
    article = ARTICLE_SOURCE in sources
    if settings.site_title:
        title = settings.site_title
    elif article and len(sources) == 1:
        title = ARTICLE_SITE_TITLE
    elif len(info.documents) == 1 and 0 < len(info.documents[0].title) <= _TITLE_CHARS:
        title = f"Ask about “{info.documents[0].title}”"
    else:
        title = "Ask the indexed documents"
    examples = settings.configured_examples or (settings.examples if article else ())
    placeholder = f"Ask a question, e.g. {examples[0]}" if examples else "Ask a question in your own words"
    return Site(title, tuple(examples), placeholder)
