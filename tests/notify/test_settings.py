"""`notify:` settings: secrets never in the file, recipients per project, mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aspider._exceptions import ConfigError
from aspider.notify import Notifier
from aspider.notify.ledger import Entry
from aspider.settings import AspiderSettings, load_settings


def _load(tmp_path: Path, data: dict[str, object]) -> AspiderSettings:
    path = tmp_path / "aspider.yaml"
    path.write_text(yaml.safe_dump({"xnat": {"url": "https://xnat.lab.test"}, **data}))
    return load_settings(path)


@pytest.mark.parametrize(
    ("notify", "variable"),
    [
        ({"email": {"host": "smtp", "password": "x"}}, "ASPIDER_NOTIFY__EMAIL__PASSWORD"),
        ({"webhook": {"url": "https://h", "token": "x"}}, "ASPIDER_NOTIFY__WEBHOOK__TOKEN"),
    ],
)
def test_a_secret_in_the_settings_file_is_refused(
    tmp_path: Path, notify: dict[str, object], variable: str
) -> None:
    """The SMTP password and the webhook token may not be in the file: it names the variable."""
    with pytest.raises(ConfigError, match=variable):
        _load(tmp_path, {"notify": notify})


def test_a_recipient_that_is_not_an_address_is_named(tmp_path: Path) -> None:
    """A header-breaking recipient never reaches SMTP: the file says which."""
    with pytest.raises(ConfigError, match="not an email address"):
        _load(tmp_path, {"notify": {"email": {"host": "smtp", "to": ["a@b\nBcc: x@y"]}}})


def test_a_project_s_own_recipients_hear_its_tasks_and_the_site_its_components(
    tmp_path: Path,
) -> None:
    """P2's tasks go to its PI; the cluster's failure to the site; a muted project: nothing."""
    settings = _load(
        tmp_path,
        {
            "projects": {
                "P1": {},
                "P2": {"notify": {"to": ["pi@lab.test"]}},
                "P3": {"notify": {"enabled": False}},
            },
            "notify": {"email": {"host": "smtp.lab.test", "to": "ops@lab.test"}},
        },
    )
    routes = Notifier(settings).routes

    def heard(project: str, cause: str) -> tuple[str, ...]:
        return routes.for_entry(Entry(project, "x", cause, "d", "t", "now"))

    assert heard("P1", "failed") == ("email:ops@lab.test",)
    assert heard("P2", "failed") == ("email:pi@lab.test",)
    assert heard("P2", "cluster") == ("email:ops@lab.test",)
    assert heard("P3", "failed") == ()
    assert heard("P3", "cluster") == ()


def test_recipients_without_a_server_are_a_configuration_error(tmp_path: Path) -> None:
    """`to` without `host` names the missing key before anything runs."""
    settings = _load(tmp_path, {"notify": {"email": {"to": ["ops@lab.test"]}}})
    with pytest.raises(ConfigError, match=r"notify\.email\.host"):
        Notifier(settings)


def test_an_unreadable_password_file_names_the_setting(tmp_path: Path) -> None:
    """A password file that is not there: the setting and the path, at start."""
    missing = tmp_path / "nope"
    email = {"host": "smtp", "user": "u", "password_file": str(missing), "to": ["a@b.c"]}
    settings = _load(tmp_path, {"notify": {"email": email}})
    with pytest.raises(ConfigError, match=f"notify.email.password_file: cannot read {missing}"):
        Notifier(settings)
