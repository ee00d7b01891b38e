"""The write side of the test Hub server (``tests.fakes.hub.HubServer``): enough of the Hub's
upload protocol for the real ``huggingface_hub`` client to create a repo and upload a folder.

What ``huggingface_hub`` 2.4.0 sends without Xet (``HF_HUB_DISABLE_XET=1``; with ``hf_xet``
installed and Xet enabled, ``upload_folder`` and LFS uploads go to Xet storage unconditionally,
and this server does not speak Xet: the ``hf_isolated`` fixture disables it):

* ``POST /api/repos/create`` JSON ``{name, organization, type, visibility?}`` -> ``{url}``;
  ``409`` (with ``url``) when the repo exists, which ``create_repo(exist_ok=True)`` accepts.
* ``POST /api/datasets/{repo}/preupload/{rev}`` JSON ``{files: [{path, sample, size}]}`` ->
  ``{files: [{path, uploadMode: "regular"|"lfs", shouldIgnore, oid?}]}``; ``oid`` (git blob sha1
  of a regular file, sha256 of an LFS file) lets the client skip files that did not change.
* ``POST /datasets/{repo}.git/info/lfs/objects/batch`` (git-lfs batch API, ``basic`` transfer)
  -> per object either no ``actions`` (already stored) or an ``upload`` href (a signed URL on the
  CDN origin, as S3 would be: the client sends it no ``Authorization``) and a ``verify`` href.
* ``PUT`` of the bytes to that href: refused unless their length and sha256 are the object's.
* ``POST /datasets/{repo}.git/info/lfs/objects/verify`` JSON ``{oid, size}``.
* ``POST /api/datasets/{repo}/commit/{rev}`` NDJSON: a ``header`` line, then ``file`` (base64),
  ``lfsFile`` (``{path, algo, oid, size}``), ``deletedFile`` and ``deletedFolder`` lines ->
  ``{success, commitOid, commitUrl}``. The files land in the served folder, ``refresh()`` makes
  the new commit, and the read side serves them at once (LFS ones through the CDN redirect).

Uploaded LFS objects wait in ``{root}/.git/lfs/objects/`` (the snapshot ignores ``.git``).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

import yaml

from .http import HttpError

if TYPE_CHECKING:
    from .http import Handler
    from .hub import HubServer

LFS_JSON = "application/vnd.git-lfs+json"


class UploadApi:
    """Answers the upload requests of one ``HubServer``; ``serve`` returns False for any other."""

    def __init__(self, hub: HubServer) -> None:
        self.hub = hub
        self.created = False
        self._commit_lock = threading.Lock()

    # ---- routing

    def serve(self, h: Handler, parts: list[str], body: bytes) -> bool:
        if h.server.role == "cdn":
            if h.command == "PUT" and parts[:1] == ["lfs-upload"]:
                self._put_object(h, parts[1] if len(parts) > 1 else "", _body(h, body))
                return True
            return False
        if h.command == "PUT":
            raise HttpError(405, None, "PUT is only accepted on signed upload URLs")
        if h.command != "POST":
            return False
        api = parts[:2] == ["api", "datasets"] and len(parts) == 6
        if parts == ["api", "repos", "create"]:
            self.hub._check_auth(h.headers.get("Authorization"))
            self._create(h, json.loads(_body(h, body) or b"{}"))
        elif parts == ["api", "validate-yaml"]:
            self._validate_yaml(h, json.loads(_body(h, body)))
        elif api and parts[4] in ("preupload", "commit"):
            self.hub._check_auth(h.headers.get("Authorization"))
            self.hub._check_repo(parts[2], parts[3], parts[5])
            if parts[4] == "preupload":
                self._preupload(h, json.loads(_body(h, body)))
            else:
                self._commit(h, _body(h, body))
        elif self._is_lfs_path(parts) and parts[-1] in ("batch", "verify"):
            self.hub._check_auth(h.headers.get("Authorization"))
            payload = json.loads(_body(h, body))
            if parts[-1] == "batch":
                self._batch(h, payload)
            else:
                self._verify(h, payload)
        else:
            return False
        return True

    def _is_lfs_path(self, parts: list[str]) -> bool:
        """``datasets/{ns}/{name}.git/info/lfs/objects/{batch|verify}`` of the served repo."""
        if len(parts) != 7 or parts[0] != "datasets" or parts[3:6] != ["info", "lfs", "objects"]:
            return False
        if not parts[2].endswith(".git"):
            return False
        self.hub._check_repo(parts[1], parts[2][: -len(".git")], None)
        return True

    # ---- repo

    def _create(self, h: Handler, payload: dict[str, Any]) -> None:
        repo_id = f"{payload.get('organization')}/{payload.get('name')}"
        if payload.get("type") != "dataset" or repo_id != self.hub.repo_id:
            raise HttpError(403, None, f"You don't have the rights to create {repo_id}")
        url = f"{self.hub.endpoint}/datasets/{repo_id}"
        if self.created or self.hub.snapshot.files:
            message = "You already created this dataset repo"  # the client reads url from a 409
            h._send_json(409, {"error": message, "url": url}, {"X-Error-Message": message})
            return
        self.created = True
        h._send_json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, h: Handler, payload: dict[str, Any]) -> None:
        """A README's front matter: YAML, and for datasets well-formed ``configs``."""
        errors = [{"message": m} for m in card_yaml_problems(payload.get("content", ""))]
        h._send_json(400 if errors else 200, {"errors": errors, "warnings": []})

    # ---- preupload

    def upload_mode(self, path: str, size: int) -> str:
        """What the client must do with a file: the rule that also decides what is served
        from LFS (``HubServer.lfs_threshold`` / ``lfs_patterns``)."""
        lfs = size >= self.hub.lfs_threshold or any(
            fnmatch.fnmatch(path, pat) for pat in self.hub.lfs_patterns
        )
        return "lfs" if lfs and size > 0 else "regular"

    def _preupload(self, h: Handler, payload: dict[str, Any]) -> None:
        files = []
        for item in payload.get("files", []):
            path, size = item["path"], int(item["size"])
            mode = self.upload_mode(path, size)
            answer = {"path": path, "uploadMode": mode, "shouldIgnore": False}
            if (f := self.hub.snapshot.files.get(path)) is not None:
                answer["oid"] = f.sha256 if f.is_lfs else f.oid
            files.append(answer)
        h._send_json(200, {"files": files, "commitOid": self.hub.sha})

    # ---- LFS

    def object_path(self, oid: str) -> Path:
        return self.hub.root / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid

    def _batch(self, h: Handler, payload: dict[str, Any]) -> None:
        if payload.get("operation") != "upload":
            raise HttpError(422, None, "only the upload operation is supported")
        if "basic" not in payload.get("transfers", ["basic"]):
            raise HttpError(422, None, "only the basic transfer is supported (no xet)")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = str(obj["oid"]), int(obj["size"])
            answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if len(oid) != 64 or any(c not in "0123456789abcdef" for c in oid):
                answer["error"] = {"code": 422, "message": f"invalid sha256 oid {oid!r}"}
            elif not self._stored(oid, size):
                answer["actions"] = {
                    "upload": {"href": self._signed_put_url(oid, size), "expires_in": 3600},
                    "verify": {
                        "href": f"{self.hub.endpoint}/datasets/{self.hub.repo_id}.git"
                        "/info/lfs/objects/verify",
                        "header": {"Authorization": h.headers.get("Authorization", "")},
                    },
                }
            objects.append(answer)
        body = json.dumps({"transfer": "basic", "objects": objects}).encode()
        h._send(200, body, {"Content-Type": LFS_JSON})

    def _stored(self, oid: str, size: int) -> bool:
        path = self.object_path(oid)
        return path.is_file() and path.stat().st_size == size

    def _signed_put_url(self, oid: str, size: int) -> str:
        url_path = f"/lfs-upload/{oid}"
        expires = int(self.hub.clock()) + int(self.hub.redirect_ttl)
        query = {"size": size, "Expires": expires}
        query["Signature"] = self.hub._signature(f"{url_path}?{size}", expires)
        return f"{self.hub.cdn_endpoint}{url_path}?{urlencode(query)}"

    def _put_object(self, h: Handler, oid: str, data: bytes) -> None:
        """The bytes of one LFS object, to a signed URL: stored only if they are the object."""
        url_path = urlsplit(h.path).path
        try:
            size, expires = int(h.query.get("size", "")), int(h.query.get("Expires", ""))
        except ValueError:
            size, expires = -1, -1
        signature = self.hub._signature(f"{url_path}?{size}", expires)
        if h.query.get("Signature") != signature or self.hub.clock() > expires:
            raise HttpError(403, "AccessDenied", "Signature does not match or has expired")
        if len(data) != size:
            raise HttpError(400, "IncompleteBody", f"expected {size} bytes, got {len(data)}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != oid:
            raise HttpError(400, "BadDigest", f"sha256 mismatch: {digest} is not {oid}")
        _write_atomic(self.object_path(oid), data)
        h._send(200, b"", {"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def _verify(self, h: Handler, payload: dict[str, Any]) -> None:
        oid, size = str(payload.get("oid")), int(payload.get("size", -1))
        if not self._stored(oid, size):
            raise HttpError(404, None, f"LFS object {oid} ({size} bytes) was not uploaded")
        h._send_json(200, {"oid": oid, "size": size})

    # ---- commit

    def _commit(self, h: Handler, body: bytes) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HttpError(400, None, "the first NDJSON line must be the commit header")
        header = lines[0]["value"]
        with self._commit_lock:
            parent = header.get("parentCommit")
            if parent is not None and parent != self.hub.sha:
                raise HttpError(412, None, f"parent commit {parent} is not the head")
            writes = [self._operation(op) for op in lines[1:]]  # all checked before any change
            for apply in writes:
                apply()
            self.hub.refresh()
            sha = self.hub.sha
        url = f"{self.hub.endpoint}/datasets/{self.hub.repo_id}/commit/{sha}"
        h._send_json(200, {"success": True, "commitOid": sha, "commitUrl": url, "hookOutput": ""})

    def _operation(self, op: dict[str, Any]):
        """A checked commit operation, as a function that applies it."""
        key, value = op.get("key"), op.get("value", {})
        target = self._repo_path(value.get("path", ""))
        if key == "file":
            data = base64.b64decode(value["content"])
            return lambda: _write_atomic(target, data)
        if key == "lfsFile":
            oid, size = value.get("oid", ""), value.get("size")
            source = self.object_path(oid)
            if not source.is_file() or (size is not None and source.stat().st_size != size):
                raise HttpError(422, None, f"LFS object {oid} of {value['path']} was not uploaded")
            return lambda: _write_atomic(target, source.read_bytes())
        if key == "deletedFile":
            if not target.is_file():
                raise HttpError(404, "EntryNotFound", "A file with this name doesn't exist")
            return target.unlink
        if key == "deletedFolder":
            return lambda: shutil.rmtree(target, ignore_errors=True)
        raise HttpError(400, None, f"unknown commit operation {key!r}")

    def _repo_path(self, path: str) -> Path:
        parts = [p for p in unquote(path).split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or parts[0] == ".git":
            raise HttpError(400, None, f"invalid path in repo: {path!r}")
        return self.hub.root.joinpath(*parts)


def card_yaml_problems(readme: str) -> list[str]:
    """What the Hub would refuse in a dataset card's YAML front matter (the checks we rely on:
    it parses, and each of ``configs`` has a name and ``data_files`` of ``{split, path}``)."""
    if not readme.startswith("---\n"):
        return []  # no metadata: the Hub warns, it does not refuse
    front, sep, _ = readme[4:].partition("\n---\n")
    if not sep:
        return ["the YAML front matter is not closed by a --- line"]
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as e:
        return [f"invalid YAML: {e}"]
    problems = []
    for i, config in enumerate(meta.get("configs", [])):
        if not isinstance(config, dict) or not isinstance(config.get("config_name"), str):
            problems.append(f"configs[{i}]: config_name must be a string")
            continue
        for item in config.get("data_files", []):
            if not isinstance(item, dict) or not {"split", "path"} <= set(item):
                problems.append(f"configs[{i}].data_files: expected {{split, path}}, got {item}")
    return problems


def _body(h: Handler, body: bytes) -> bytes:
    """The request body: as already read (``Content-Length``), or read now if chunked."""
    if body or "chunked" not in (h.headers.get("Transfer-Encoding") or "").lower():
        return body
    out = bytearray()
    while True:
        size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(out)
        out += h.rfile.read(size)
        h.rfile.readline()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
