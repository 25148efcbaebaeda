"""The production recipe of ``deploy/`` read for the tests that run it (tests/test_two_servers.py):
the systemd units' commands and environment, the environment file, and the nginx site with only
what a test must change replaced (ports, paths, the certificate, two app servers for one).

Every substitution checks that what it replaces is there, so a change to the recipe that the
tests can no longer follow fails loudly instead of testing something else."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from kim_app import ROOT

DEPLOY = ROOT / "deploy"


# --- systemd units --------------------------------------------------------------------------------


@dataclass
class Unit:
    """A unit file: each section's settings in order (a key may repeat, as Environment= does)."""

    path: Path
    sections: dict[str, list[tuple[str, str]]]

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.sections.get(section, []) if name == key]

    def value(self, section: str, key: str) -> str:
        """The one value of ``key``; a unit that sets it twice or never is an error here."""
        found = self.values(section, key)
        assert len(found) == 1, f"{self.path.name}: [{section}] {key}= set {len(found)} times"
        return found[0]

    def command(self, key: str = "ExecStart") -> list[str]:
        """The argument list systemd runs for ``key`` of [Service]."""
        return command_line(self.value("Service", key))

    def environment(self) -> dict[str, str]:
        """The variables of the [Service] ``Environment=`` lines."""
        variables: dict[str, str] = {}
        for line in self.values("Service", "Environment"):
            for assignment in shlex.split(line):
                name, _sep, value = assignment.partition("=")
                variables[name] = value
        return variables


def read_unit(name: str) -> Unit:
    """``deploy/<name>``: comments (``#``, ``;``) dropped, lines ending in ``\\`` joined."""
    path = DEPLOY / name
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    logical = re.sub(r"\\\n", " ", path.read_text())
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{name}: cannot read {raw!r}"
        current.append((key.strip(), value.strip()))
    return Unit(path, sections)


def command_line(value: str) -> list[str]:
    """systemd's command line as its arguments: quotes as in sh, ``%%`` a ``%`` and ``$$`` a
    ``$``. Any other specifier, variable, backslash escape or prefix (``-``, ``@``, ``+``, ``!``)
    is refused rather than read differently from systemd."""
    assert not value.startswith(("-", "@", "+", "!", ":")), f"command prefix not handled: {value}"
    assert "\\" not in value, f"backslash escapes not handled: {value}"
    assert not re.search(r"%[^%]", value.replace("%%", "")), f"specifier not handled: {value}"
    assert not re.search(r"\$", value.replace("$$", "")), f"variable not handled: {value}"
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(value)]


def read_environment_file(name: str = "kim.env") -> dict[str, str]:
    """``deploy/kim.env`` as systemd and sh both read it, under the file's own rule: NAME=value,
    no spaces around ``=``, a value with spaces, ``$``, quotes or backslashes in single quotes."""
    settings: dict[str, str] = {}
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line)
        assert match, f"{name}: not NAME=value: {raw!r}"
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        else:
            assert not re.search(r"[\s$\"'\\]", value), f"{name}: quote the value of {key}"
        settings[key] = value
    return settings


# --- the nginx site -------------------------------------------------------------------------------


@dataclass
class NginxSite:
    """deploy/kim-nginx.conf: its text and what the tests compare with the other files."""

    text: str

    @classmethod
    def read(cls) -> NginxSite:
        return cls((DEPLOY / "kim-nginx.conf").read_text())

    def directive(self, name: str) -> list[str]:
        """Every value of the directive ``name`` (comments ignored)."""
        code = re.sub(r"#[^\n]*", "", self.text)
        return [value.strip() for value in re.findall(rf"(?m)^\s*{name}\s+([^;]*);", code)]

    @property
    def server_name(self) -> str:
        names = set(self.directive("server_name"))
        assert len(names) == 1, f"one site name expected, found {names}"
        return names.pop()

    @property
    def upstream(self) -> str:
        """The address of the one app server the site proxies to (``host:port``)."""
        [block] = re.findall(r"upstream kim \{([^}]*)\}", self.text)
        [server] = re.findall(r"(?m)^\s*server\s+(\S+);", block)
        return server

    @property
    def static_root(self) -> str:
        [block] = re.findall(r"location /static/ \{([^}]*)\}", self.text)
        [root] = re.findall(r"(?m)^\s*root\s+(\S+);", block)
        return root

    @property
    def max_body_bytes(self) -> int:
        [size] = self.directive("client_max_body_size")
        number, unit = re.fullmatch(r"(\d+)([kKmM]?)", size).groups()
        return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]

    def with_certificate(self, certificate: Path, key: Path) -> str:
        """The site as a server has it once the certificate's paths are filled in."""
        [chain] = self.directive("ssl_certificate")
        [secret] = self.directive("ssl_certificate_key")
        text = _replace_once(
            self.text, f"ssl_certificate {chain};", f"ssl_certificate {certificate};"
        )
        return _replace_once(text, f"ssl_certificate_key {secret};", f"ssl_certificate_key {key};")

    def for_test(
        self,
        *,
        http_port: int,
        https_port: int,
        app_servers: list[str],
        static_root: Path,
        certificate: Path,
        key: Path,
    ) -> str:
        """The site as a test runs it: every ``listen`` on a loopback port of its own (IPv4
        only), the upstream's one server replaced by ``app_servers``, the checkout and the
        certificate where the test has them, and ``X-Upstream`` naming the app server that
        answered (a test needs to tell two apart; a server with one needs nothing of the kind)."""
        text = self.with_certificate(certificate, key)
        ports = {"80": http_port, "443": https_port}

        def listen(match: re.Match) -> str:
            if match["ipv6"]:
                return ""  # the loopback's IPv6 address may be missing where the tests run
            return f"{match['indent']}listen 127.0.0.1:{ports[match['port']]}{match['options']};\n"

        text, listens = re.subn(
            r"(?m)^(?P<indent>[ \t]*)listen\s+(?P<ipv6>\[::\]:)?(?P<port>80|443)\b"
            r"(?P<options>[^;]*);\n",
            listen,
            text,
        )
        assert listens >= 4, "the site listens on 80 and 443, IPv4 and IPv6"
        servers = "\n    ".join(f"server {address};" for address in app_servers)
        text = _replace_once(text, f"server {self.upstream};", servers)
        text = _replace_once(text, f"root {self.static_root};", f"root {static_root};")
        return _replace_once(
            text,
            "proxy_pass http://kim;",
            "proxy_pass http://kim;\n        add_header X-Upstream $upstream_addr always;",
        )


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once in deploy/kim-nginx.conf"
    return text.replace(old, new)
