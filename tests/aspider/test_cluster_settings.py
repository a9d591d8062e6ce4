"""
The cluster settings as the engine uses them: the executor's client, how the login node is
reached (ssh config, jump hosts), and the Slurm-only settings refused elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aspider._exceptions import ConfigError
from aspider.run.wiring import job_template, scheduler_client, ssh_settings
from aspider.settings import AspiderSettings, load_settings
from pbs import LocalTransport, PbsClient, SlurmClient

TEMPLATE = "#!/bin/bash\n#SBATCH --account=lab\nmodule load fsl\n${job_cmds}\n"


def settings(**cluster: object) -> AspiderSettings:
    return AspiderSettings.model_validate({"cluster": cluster})


def test_jump_hosts_as_a_list_and_the_ssh_config_reach_ssh_settings(tmp_path: Path) -> None:
    """A YAML list of hops is SshSettings' comma list; port unset is the config's; `none`."""
    chosen = settings(
        executor="slurm", host="hpc", jump_host=["gw", "alice@inner:2222"], ssh_config="none"
    )
    ssh = ssh_settings(chosen)
    assert (ssh.host, ssh.port, ssh.jump_host, ssh.ssh_config) == (
        "hpc",
        None,
        "gw,alice@inner:2222",
        None,
    )
    config = tmp_path / "config"
    assert ssh_settings(settings(executor="pbs", host="h", ssh_config=str(config))).ssh_config == (
        config
    )


def test_a_malformed_jump_host_is_a_configuration_error() -> None:
    """A hop that is not [user@]host[:port] is refused in one line naming the setting."""
    with pytest.raises(ConfigError, match=r"cluster\.jump_host"):
        ssh_settings(settings(executor="slurm", host="h", jump_host="gw:notaport"))


@pytest.mark.parametrize("field", ["qos", "job_template", "accounting"])
def test_slurm_settings_need_executor_slurm(tmp_path: Path, field: str) -> None:
    """qos, job_template and accounting with executor pbs: refused at load, saying why."""
    value = {"qos": "normal", "job_template": "/t.txt", "accounting": "true"}[field]
    path = tmp_path / "aspider.yaml"
    path.write_text(f"cluster:\n  executor: pbs\n  {field}: {value}\n")
    with pytest.raises(ConfigError, match=f"{field} is a Slurm setting"):
        load_settings(path)


def test_executor_picks_its_client_and_the_template_is_read_here(tmp_path: Path) -> None:
    """slurm: SlurmClient with the template read from this machine; pbs: PbsClient."""
    template = tmp_path / "dax.slurm"
    template.write_text(TEMPLATE)
    chosen = settings(executor="slurm", job_template=str(template), accounting=False)
    transport = LocalTransport()  # not opened: choosing a client runs no command
    slurm = scheduler_client(chosen, transport, job_template(chosen))
    pbs = scheduler_client(settings(executor="pbs", dialect="pbspro"), transport)
    assert isinstance(slurm, SlurmClient)
    assert slurm.job_template is not None
    assert slurm.job_template.text == TEMPLATE
    assert isinstance(pbs, PbsClient)


def test_a_missing_or_unusable_template_is_a_configuration_error(tmp_path: Path) -> None:
    """No such file, or no ${job_cmds}: one line naming cluster.job_template."""
    with pytest.raises(ConfigError, match=r"cluster\.job_template: cannot read"):
        job_template(settings(executor="slurm", job_template=str(tmp_path / "absent")))
    useless = tmp_path / "useless.slurm"
    useless.write_text("#!/bin/bash\necho no command here\n")
    with pytest.raises(ConfigError, match=r"must contain \$\{job_cmds\}"):
        job_template(settings(executor="slurm", job_template=str(useless)))


def test_retry_default_comes_from_the_settings_file(tmp_path: Path) -> None:
    """retry: in the settings (a bare `on:` included) is the site's default policy."""
    path = tmp_path / "aspider.yaml"
    path.write_text("retry:\n  attempts: 3\n  on: [memory]\n  max_memory: 64G\n")
    policy = load_settings(path).retry
    assert (policy.attempts, policy.on, policy.max_memory_mb) == (3, ("memory",), 65536)
