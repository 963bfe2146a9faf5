"""``decide()``: what to do about one order now, as a pure function of what is known.

``core.py`` is the entry point and the creation path; its siblings each own one part of the
lifecycle: ``release.py`` (holds and release), ``tracking.py`` (tracking back to TikTok),
``cancel.py`` (cancellations and refunds), ``imported.py`` (orders TikTok ships itself),
and ``common.py`` the context and result they share.
"""

from orderbridge.domain.decide.common import Decision
from orderbridge.domain.decide.core import decide

__all__ = ["Decision", "decide"]
