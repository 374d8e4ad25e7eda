"""Documentation that code holds to: every environment variable the settings read is listed in
docs/configuration.md, and the README keeps its two-command quick start."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "hub" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"env(?:str|bool|int|list)\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    # f-string names: HUB_SSO_<PROVIDER>_CLIENT_ID / _SECRET for each provider in the loop.
    loop = re.search(r"for _provider in \(([^)]*)\)", source)
    assert loop, "the SSO provider loop moved; update this test"
    for provider in re.findall(r"\"(\w+)\"", loop.group(1)):
        names |= {f"HUB_SSO_{provider.upper()}_CLIENT_ID", f"HUB_SSO_{provider.upper()}_SECRET"}
    names.add("SECRET_KEY")  # read by hub.env.secret_key()
    return names


def test_every_setting_variable_is_documented() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    names = _variables_read_by_settings()
    assert len(names) > 30
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_readme_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick_start, re.S)
    assert block
    assert block.group(1).split("\n")[:-1] == ["make run", "make test"]
    for page in ("architecture", "configuration", "operations"):
        assert f"docs/{page}.md" in readme
        assert (ROOT / "docs" / f"{page}.md").exists()
