"""Sources -> rows: every layout of the release read into the catalog's tables.

``sources`` (the one ordered registry: which module reads a location), one module per source
(``filelist``, ``assets``, ``tars``, ``tree``, ``perfile``, ``remote_perfile``), the parsers
they share (``members``: one sample file -> rows; ``documents``/``docbatch``: the per-file
metadata; ``csvtext``), ``units`` (what is parsed and fingerprinted as a whole), ``sink``
(where parsers put rows and quarantined records), ``pool``/``staging``/``pipeline`` (one run:
parse in workers, stage, merge into a snapshot, commit).
"""
