"""
What vulture (`make lint`) cannot see used: read by a framework, a template, a wire format or a
protocol, never by a call in our code. One line each, with who uses it.
"""

_.next_request  # a JSON key of `explain --json`, read by key (aspider.cli.explain)
_.BAD  # QC vocabulary a person sets in XNAT; DAX reads it
_.POOR  # the same
_.procyamlversion  # a key of DAX's processor files, validated, never read
_.y  # chart geometry, read by the status page's template
_.height  # the same
_.polled  # read by the status page's template
_.capture_signals  # uvicorn calls it (aspider.serve.server, the sandbox's _tcp)
_.should_exit  # uvicorn reads it
_.settings_customise_sources  # pydantic-settings calls it
dotenv_settings  # its signature, as pydantic-settings calls it
file_secret_settings  # the same
exc_type  # __aexit__'s signature
tb  # the same
_.jobstartdate  # XNAT's assessor fields: written, and read back by XNAT and DAX
_.memused  # the same
_.step_launch_time  # a workflow entry's field, as XNAT lists it
_.async_auth_flow  # httpx calls it (xnat_client._auth)
_.writable  # zipfile asks its output stream (the sandbox's zip download)
_.memory_enforcement  # the loopback cluster's profile, read by tests that skip on it
curl  # a fixture argument: the test needs curl installed
BaselineOnly  # loaded by name from a settings string (tests/aspider/test_python_processor.py)
__getattr__  # the module's lazy names (PEP 562): Python calls it for `aspider.Spider`
_.by_processor  # a view's field, for the API's users and to_dict()
_.failed_projects  # the same
sandbox_folder  # a fixture argument: the test needs the sandbox and its folder
runnable_labels  # tests/api/user_script.py: a user's code, checked by mypy --strict
loop_b  # the same
try_first  # the same
stale_reasons  # the same
stale_ids  # the same
_.formatTime  # logging.Formatter calls it (aspider.cli.logs.LineFormatter)
datefmt  # its signature, as logging calls it
try_every_channel  # typer calls it: `aspider notify test` (aspider.cli.notify)
_.handle_DATA  # aiosmtpd calls it (tests/notify/receivers.py)
mechanism  # the signature of aiosmtpd's authenticator
_.do_POST  # http.server calls it (tests/notify/receivers.py)
_.log_message  # the same
_.memory_asked  # a ProcessorUsage field: `aspider tune --json`, /api/v1/status, the API
_.walltime_asked  # the same
