"""The bytes of the release's file formats, read through random-access readers.

``readers`` (one ``read_at(offset, n)`` interface over local files, buffers, windows of
another reader and remote objects, plus a file-object view for the standard library),
``tarindex`` (tar headers walked without extracting), ``probes`` (wav, mp4 and npz facts from
their headers only). Nothing here knows where a file comes from.
"""
