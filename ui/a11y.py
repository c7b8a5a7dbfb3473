"""What the chat page adds for accessibility (WCAG 2.2 AA), on top of Gradio's own markup.

`ui.app` puts `HEAD_CSS` and `HEAD_JS` in the page's head, `SKIP_AND_ANNOUNCE` first and
`FOOTER` last on the page, and runs `ANNOUNCE_JS` whenever the conversation changes. The
statement these measures are described in is `ui.accessibility`; how they are tested,
docs/accessibility.md.
"""

from __future__ import annotations

# In the page's head, so it also reaches Gradio's footer panels (`css_paths` rules do not).
HEAD_CSS = """
/* WCAG 2.4.7 and 2.4.11: a focus ring on everything focusable, Gradio's controls included (the
   question box had none). Two tones, so the ring shows on light and dark backgrounds alike. */
:focus-visible,
.gradio-container textarea:focus-visible,
.gradio-container input:focus-visible {
  outline: 3px solid #1d4ed8 !important;
  outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #ffffff !important;
}
.dark :focus-visible,
.dark .gradio-container textarea:focus-visible,
.dark .gradio-container input:focus-visible {
  outline-color: #fbbf24 !important;
  box-shadow: 0 0 0 5px #0b0f19 !important;
}
/* The skip link: off screen until it takes focus, then the first thing on the page. */
.qa-skip { position: absolute; left: -10000px; top: 8px; z-index: 1000; padding: 8px 14px;
  background: #1d4ed8; color: #ffffff !important; border-radius: 6px; font-weight: 600;
  transition: none !important; }
.qa-skip:focus { left: 8px !important; }
.qa-visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
/* Gradio's Settings panel: its "beta" tag, address and run-history link are pale blue on white
   (3.4:1 or less) and its check boxes 16 px, under WCAG's 4.5:1 and 24 px (1.4.3, 2.5.8). */
.banner-wrap .url, .run-history-button { color: #1d4ed8 !important; }
.dark .banner-wrap .url, .dark .run-history-button { color: #bfdbfe !important; }
.beta-tag { background: #1d4ed8 !important; color: #ffffff !important; }
.banner-wrap ~ * input[type=checkbox], .banner-wrap input[type=checkbox] { width: 24px; height: 24px; }
/* WCAG 2.3.3: people who ask their system for less motion get none. */
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after {
    animation-duration: 0.01ms !important;
    animation-iteration-count: 1 !important;
    transition-duration: 0.01ms !important;
    scroll-behavior: auto !important;
  }
}
"""

# Page-wide keyboard and screen-reader help, in the head because Gradio renders the page later:
# the skip link puts the focus in the question box itself (an anchor alone would only scroll to
# its wrapper), and buttons Gradio leaves without a name (the Settings panel's close button, an
# icon only) are named, since a screen reader would otherwise say just "button" (WCAG 4.1.2);
# Escape closes that panel, as it does other dialogs. The question box is named by its own label
# alone: Gradio puts the Ask button inside that label, so the box was read as "Your question Ask".
HEAD_JS = """
<script>
document.addEventListener("click", (event) => {
  const skip = event.target.closest && event.target.closest(".qa-skip");
  if (!skip) return;
  const box = document.querySelector("#qa-question textarea");
  if (!box) return;
  event.preventDefault();
  box.focus();
});
new MutationObserver(() => {
  for (const button of document.querySelectorAll(".banner-wrap button:not([aria-label])")) {
    if (!button.textContent.trim()) button.setAttribute("aria-label", "Close");
  }
  for (const box of document.querySelectorAll("#qa-question textarea:not([aria-label])")) {
    box.setAttribute("aria-label", "Your question");
  }
}).observe(document.documentElement, {childList: true, subtree: true});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const close = document.querySelector(".banner-wrap button[aria-label=Close]");
  if (close) close.click();
});
</script>
"""

# Each new reply is announced politely as its outcome in words and its first words ("Answer:
# Collective leadership is ..."), in the live region of `SKIP_AND_ANNOUNCE` (WCAG 4.1.3). Focus
# stays where it is. Gradio's conversation log is a live region too and would read every reply
# out whole, citations and all, so it is turned off in favour of this one line.
ANNOUNCE_JS = """
() => {
  setTimeout(() => {
    const log = document.querySelector("#qa-chat [role=log]");
    if (log) log.setAttribute("aria-live", "off");
    const replies = document.querySelectorAll("#qa-chat [data-testid=bot]");
    const region = document.getElementById("qa-announce");
    if (!region || replies.length <= (window.qaAnnounced || 0)) {
      window.qaAnnounced = replies.length;
      return;
    }
    window.qaAnnounced = replies.length;
    const reply = replies[replies.length - 1];
    const named = reply.querySelector(".qa-outcome-words");
    const lead = reply.querySelector(".qa-answer, .qa-outcome-text, .qa-notice");
    const words = (lead || reply).textContent.trim().split(/\\s+/).slice(0, 20).join(" ");
    const outcome = named ? named.textContent.trim() : "";
    region.textContent = outcome && !words.startsWith(outcome) ? `${outcome}: ${words}` : words;
  }, 80);
}
"""

# Before the conversation: the skip link (first in the Tab order) and the polite live region
# the replies are announced in. After everything: the link to the accessibility statement.
SKIP_AND_ANNOUNCE = (
    '<a class="qa-skip" href="#qa-question">Skip to the question box</a>'
    '<div id="qa-announce" class="qa-visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>'
)
FOOTER = '<p class="qa-footer"><a href="accessibility">Accessibility statement</a></p>'
