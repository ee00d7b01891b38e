"""Fakes of the services the package talks to, for tests: the Hugging Face Hub, the per-file
CDN and S3, with faults to inject and counters to read.

* ``faults``: the fault switchboard (``Faults``) and request counters (``Stats``);
* ``http``: the shared request handler, listening sockets and ``Range`` parsing;
* ``repo``: the served repo (``RepoSnapshot``) and the test data (``write_hub_repo``);
* ``hub``: ``HubServer``, the Hub's read API and ``/resolve`` with its CDN redirect;
* ``upload``: the Hub's write side (create repo, preupload, LFS, commit);
* ``cdn``: ``CdnServer``, a static per-file CDN;
* ``s3``: moto's S3 server and an uploader of the per-file layout;
* ``fixtures``: the pytest fixtures over all of them (registered by ``tests/conftest.py``).
"""
