"""3PL lookups and tracking (issue 10 §2): the poller that keeps ``threepl_orders`` current
(``poll.py``), what a pass reads of it (``lookup.py``) and the Shopify fulfilment a 3PL
parcel becomes (``fulfil.py``). The choices (which 3PL, which reference, what to write) are
the domain's (``domain/threepl.py``)."""
