"""NF-e XML receipts: an electronic invoice (NF-e 4.00) read into stock.

``parsing`` reads a file safely into a ``Note`` (nfelib's bindings, after
defusedxml refused any DTD or entity); ``apportion`` spreads freight,
insurance, discounts, other charges and taxes over the lines to the cent;
``matching`` finds each line's product; ``services`` builds the preview and
receives the notes (all or none, once per access key); ``jobs`` and
``tasks`` run both in the worker through the notification centre.
"""
