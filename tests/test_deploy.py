"""deploy.sh against recording stand-ins for gcloud and clasp (tests/deploy_standins/).

Each test copies deploy.sh into a sandbox beside a minimal function/ (with the real
.gcloudignore) and apps_script/, puts the stand-ins first on PATH, and runs it with bash as
a person would. The stand-ins keep a fake cloud in a JSON state file and log every argv, so
the tests assert on what a person would see (the URL, the token, the exact refusal) and on
what reached Google: the flags of every command, the secret data (which must arrive on
stdin, never in an argv or an inherited environment), what would be uploaded, and that a
second run creates nothing.

The projects they deploy to are of three kinds: a new project (no API enabled, and a
default build account without any role, as Cloud Build sets up projects since 2024), an
organisation project (domain restricted sharing refuses allUsers), and the rerun of each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import termios
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import wait_until

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY_SH = REPO_ROOT / "deploy.sh"
STANDINS = Path(__file__).resolve().parent / "deploy_standins"

PROJECT = "demo-project-42"
API_KEY = "pk_live_7f3a9c1e5b2d4068aa5e"
SERVICE_ACCOUNT = f"pronto-sheets-fn@{PROJECT}.iam.gserviceaccount.com"
BUILD_ACCOUNT = f"pronto-sheets-build@{PROJECT}.iam.gserviceaccount.com"
BUILD_ROLES = {
    "roles/cloudbuild.builds.builder",
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
}
SPREADSHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG"
SCRIPT_ID = "1ScriptIdAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
# What a new spreadsheet's script project holds: Code.gs with an empty function.
NEW_SCRIPT_FILES = [
    {"name": "Code", "type": "SERVER_JS", "source": "function myFunction() {\n  \n}\n"},
    {"name": "appsscript", "type": "JSON", "source": '{"timeZone": "Europe/Paris"}'},
]
BASE_APIS = {
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "sheets.googleapis.com",
    "iam.googleapis.com",
    "firestore.googleapis.com",
}
TTL_GROUPS = {"pronto_sheets_answers", "pronto_sheets_ledger", "pronto_sheets_subjects"}
ORG_REFUSAL = "One or more users named in the policy do not belong to a permitted customer"
MANIFEST = {
    "timeZone": "Europe/Paris",
    "dependencies": {},
    "exceptionLogging": "STACKDRIVER",
    "runtimeVersion": "V8",
    "oauthScopes": [
        "https://www.googleapis.com/auth/spreadsheets.currentonly",
        "https://www.googleapis.com/auth/script.external_request",
    ],
    "urlFetchWhitelist": ["https://example.com/"],
}

COMMANDS = (
    "services list",
    "services enable",
    "projects get-iam-policy",
    "projects add-iam-policy-binding",
    "iam service-accounts describe",
    "iam service-accounts create",
    "secrets describe",
    "secrets create",
    "secrets versions add",
    "secrets versions access",
    "secrets get-iam-policy",
    "secrets add-iam-policy-binding",
    "firestore databases describe",
    "firestore databases create",
    "firestore fields ttls list",
    "firestore fields ttls update",
    "functions describe",
    "functions deploy",
    "run services describe",
    "run services get-iam-policy",
    "run services update",
    "scheduler jobs describe",
    "scheduler jobs create http",
    "scheduler jobs update http",
    "pull",
    "push",
)
READ_ONLY = {
    "services list",
    "projects get-iam-policy",
    "iam service-accounts describe",
    "secrets describe",
    "secrets versions access",
    "secrets get-iam-policy",
    "firestore databases describe",
    "firestore fields ttls list",
    "functions describe",
    "run services describe",
    "run services get-iam-policy",
    "scheduler jobs describe",
    "pull",
}
# What a rerun changes on a deployed project: the function, then its CPU setting, which a
# function deploy may set back (the stand-in assumes it does).
REDEPLOY = ["functions deploy", "run services update"]


def command_of(call: dict[str, Any]) -> str:
    """The gcloud/clasp command a logged call ran, e.g. "secrets create"."""
    argv: list[str] = call["argv"]
    for command in sorted(COMMANDS, key=len, reverse=True):
        words = command.split()
        if argv[: len(words)] == words:
            return command
    raise AssertionError(f"deploy.sh ran a command the test does not know: {argv}")


def flag(call: dict[str, Any], name: str) -> str:
    """The value of --name=value in a logged call (deploy.sh always writes the = form)."""
    values = [arg.split("=", 1)[1] for arg in call["argv"] if arg.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} given {len(values)} times in {call['argv']}"
    return values[0]


@dataclass
class Run:
    """One run of deploy.sh: what it printed and the tool calls it made."""

    returncode: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    def commands(self) -> list[str]:
        return [command_of(call) for call in self.calls]

    def changes(self) -> list[str]:
        return [command for command in self.commands() if command not in READ_ONLY]

    def only(self, command: str) -> dict[str, Any]:
        found = [call for call in self.calls if command_of(call) == command]
        assert len(found) == 1, f"{command!r} ran {len(found)} times"
        return found[0]

    def all(self, command: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if command_of(call) == command]


@dataclass
class Sandbox:
    """A copy of deploy.sh beside a minimal function/ and apps_script/, and the fake cloud."""

    root: Path
    state_path: Path
    log_path: Path

    def env(self, key: str | None) -> dict[str, str]:
        env = {
            "PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(self.root.parent),
            "LANG": "C.UTF-8",
            "DEPLOY_STANDIN_STATE": str(self.state_path),
            "DEPLOY_STANDIN_LOG": str(self.log_path),
            "DEPLOY_STANDIN_PYTHON": sys.executable,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            # Exported names the script also uses: its values must not leak through them.
            "API_KEY": "decoy",
            "TOKEN": "decoy",
        }
        if key is not None:
            env["PRONTO_API_KEY"] = key
        return env

    def logged(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def run(self, *args: str, key: str | None = API_KEY, env: dict[str, str] | None = None) -> Run:
        before = len(self.logged())
        merged = self.env(key) | (env or {})
        for name in [name for name, value in merged.items() if value == ""]:
            del merged[name]
        done = subprocess.run(
            ["bash", str(self.root / "deploy.sh"), *args],
            cwd=self.root,
            env=merged,
            input="",
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr, self.logged()[before:])

    def state(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.state_path.read_text())
        return loaded

    def change_project(self, **fields: Any) -> None:
        """Set fields of the fake project (e.g. an organisation policy) between runs."""
        state = self.state()
        state["projects"][PROJECT].update(fields)
        self.state_path.write_text(json.dumps(state))

    def roles_of(self, member: str) -> set[str]:
        """The project roles granted to ``member``."""
        return {
            binding["role"]
            for binding in self.project().get("iam_policy", [])
            if member in binding["members"]
        }

    def script_files(self) -> dict[str, str]:
        """The files of the Apps Script project, name to type, as Google holds them."""
        files = self.state()["clasp"]["projects"][SCRIPT_ID]["files"]
        return {file["name"]: file["type"] for file in files}

    def project(self) -> dict[str, Any]:
        project: dict[str, Any] = self.state()["projects"][PROJECT]
        return project

    def function(self) -> dict[str, Any]:
        function: dict[str, Any] = self.project()["functions"]["us-central1/pronto-sheets"]
        return function

    def secret_data(self, name: str) -> list[tuple[str, str]]:
        """(data, where it came from) of every version of a secret."""
        versions = self.project()["secrets"][name]["versions"]
        return [(version["data"], version["data_source"]) for version in versions]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "repo"
    (root / "function").mkdir(parents=True)
    (root / "apps_script").mkdir()
    shutil.copy(DEPLOY_SH, root / "deploy.sh")
    shutil.copy(REPO_ROOT / "function" / ".gcloudignore", root / "function" / ".gcloudignore")
    (root / "function" / "main.py").write_text(
        "import functions_framework\n\n\n@functions_framework.aio.http\n"
        "async def pronto(request):\n    return None\n"
    )
    (root / "function" / "requirements.txt").write_text("functions-framework>=3.10,<4\n")
    (root / "apps_script" / "appsscript.json").write_text(json.dumps(MANIFEST, indent=2) + "\n")
    (root / "apps_script" / "Formulas.js").write_text("function PRONTO_EMAIL() {}\n")
    state_path = tmp_path / "cloud.json"
    # A new project: billing linked, no API enabled, no role granted to anyone (so not to
    # the default build account either); and a new sheet's script project.
    state_path.write_text(
        json.dumps(
            {
                "projects": {PROJECT: {"number": "123456789012", "billing": True}},
                "clasp": {"projects": {SCRIPT_ID: {"files": NEW_SCRIPT_FILES}}},
            }
        )
    )
    return Sandbox(root, state_path, tmp_path / "calls.jsonl")


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, f"deploy.sh failed:\n{run.stderr}"


def printed_url(run: Run) -> str:
    match = re.search(r"^  Function URL +(\S+)$", run.stdout, re.M)
    assert match, run.stdout
    return match.group(1)


def printed_token(sandbox: Sandbox, run: Run) -> str:
    """The token that the summary's command prints, pasted into a shell as a person would.

    The summary shows the command, never the token: run it against the same fake cloud.
    """
    match = re.search(r"^  Token for Settings  print it with: (.+)$", run.stdout, re.M)
    assert match, run.stdout
    assert match.group(1) == (
        f"gcloud secrets versions access latest --secret=pronto-sheets-token --project={PROJECT}"
        " | cut -d, -f1"
    )
    done = subprocess.run(
        ["bash", "-c", match.group(1)],
        env=sandbox.env(key=None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rstrip("\n")


def commands_printed(run: Run) -> list[str]:
    """The commands a --dry-run printed, before its closing summary."""
    printed = run.stdout.split("\n# Dry run: nothing was changed.")[0].splitlines()
    return [line for line in printed if line and not line.startswith("#")]


def reachable_without_identity(function: dict[str, Any]) -> bool:
    """Whether Cloud Run lets a call without a Google identity reach the function."""
    return "allUsers" in function["invokers"] or bool(
        function["serviceConfig"].get("invokerIamDisabled")
    )


def gcloud(sandbox: Sandbox, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the gcloud stand-in directly, against the sandbox's fake cloud."""
    return subprocess.run(
        [str(STANDINS / "gcloud"), *argv],
        env=sandbox.env(key=None),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------- lint


def test_shellcheck_reports_nothing_at_warning_level() -> None:
    """shellcheck finds nothing at warning level in deploy.sh or the stand-in wrappers."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install -y shellcheck)")
    checked = [DEPLOY_SH, STANDINS / "gcloud", STANDINS / "clasp"]
    done = subprocess.run(
        [shellcheck, "-S", "warning", *map(str, checked)], capture_output=True, text=True
    )
    assert done.stdout == ""
    assert done.returncode == 0


# ---------------------------------------------------------------- first and second run


def test_first_run_sets_up_an_empty_project_and_prints_url_token_and_account(
    sandbox: Sandbox,
) -> None:
    """On a new project one run enables, creates, stores, grants, deploys and prints it all."""
    run = sandbox.run()
    assert_ok(run)

    assert run.changes() == [
        "services enable",
        "iam service-accounts create",
        "iam service-accounts create",
        "projects add-iam-policy-binding",
        "projects add-iam-policy-binding",
        "projects add-iam-policy-binding",
        "secrets create",
        "secrets create",
        "secrets create",
        "secrets add-iam-policy-binding",
        "secrets add-iam-policy-binding",
        "secrets add-iam-policy-binding",
        "firestore databases create",
        "firestore fields ttls update",
        "firestore fields ttls update",
        "firestore fields ttls update",
        "projects add-iam-policy-binding",
        "functions deploy",
        "run services update",
    ]
    enable = run.only("services enable")
    assert {arg for arg in enable["argv"][2:] if not arg.startswith("--")} == BASE_APIS
    assert set(sandbox.project()["enabled_apis"]) == BASE_APIS

    function = sandbox.function()
    service = function["serviceConfig"]
    assert function["state"] == "ACTIVE"
    assert function["buildConfig"]["runtime"] == "python312"
    assert function["buildConfig"]["entryPoint"] == "pronto"
    assert function["buildConfig"]["source"] == str(sandbox.root / "function")
    assert function["invokers"] == ["allUsers"]
    assert not service.get("invokerIamDisabled")
    assert service["serviceAccountEmail"] == SERVICE_ACCOUNT
    assert service["timeoutSeconds"] == 3600
    assert service["maxInstanceCount"] == 1
    assert service["minInstanceCount"] == 0
    assert service["maxInstanceRequestConcurrency"] >= 80
    assert service["availableCpu"] == "1"
    assert service["availableMemory"] == "1Gi"
    # Pending lookups go on after the response: the CPU stays allocated.
    assert service["cpuThrottling"] is False
    assert {
        (ref["key"], ref["secret"], ref["version"]) for ref in service["secretEnvironmentVariables"]
    } == {
        ("PRONTO_API_KEY", "pronto-api-key", "latest"),
        ("PRONTO_SHEETS_TOKENS", "pronto-sheets-token", "latest"),
        ("PRONTO_WEBHOOK_SECRET", "pronto-webhook-secret", "latest"),
    }
    deploy = run.only("functions deploy")
    assert "--gen2" in deploy["argv"]
    assert "--trigger-http" in deploy["argv"]
    assert "--allow-unauthenticated" in deploy["argv"]

    url = service["uri"]
    assert re.fullmatch(r"https://pronto-sheets-[0-9a-f]+-uc\.a\.run\.app", url)
    # The audience and the public URL are set once the URL is known, as a new revision, not
    # a second build.
    assert service["environmentVariables"] == {
        "GOOGLE_ALLOWED_EMAILS": SERVICE_ACCOUNT,
        "GOOGLE_ALLOWED_AUDIENCES": url,
        "PRONTO_PUBLIC_URL": url,
        "PRONTO_STORE": "firestore",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
    }
    assert function["deployCount"] == 1
    update = run.only("run services update")
    assert "--no-cpu-throttling" in update["argv"]
    assert "--no-invoker-iam-check" not in update["argv"]

    for secret in ("pronto-api-key", "pronto-sheets-token", "pronto-webhook-secret"):
        policy = sandbox.project()["secrets"][secret]["policy"]
        assert policy == [
            {
                "role": "roles/secretmanager.secretAccessor",
                "members": [f"serviceAccount:{SERVICE_ACCOUNT}"],
            }
        ]
    [(token, _)] = sandbox.secret_data("pronto-sheets-token")
    assert re.fullmatch(r"[0-9a-f]{64}", token)

    assert printed_url(run) == url
    assert printed_token(sandbox, run) == token
    assert re.search(rf"^  Service account +{re.escape(SERVICE_ACCOUNT)}$", run.stdout, re.M)
    assert "open Extensions ▸ Pronto enrichment ▸ Settings…" in run.stdout
    assert "Paste the function URL and the token, and save." in run.stdout
    assert f"share that sheet with {SERVICE_ACCOUNT} as Editor." in run.stdout


def test_second_run_creates_nothing_and_prints_the_same_token(sandbox: Sandbox) -> None:
    """Run again, deploy.sh only redeploys the function: same URL, same token, nothing new."""
    first = sandbox.run()
    assert_ok(first)
    state_after_first = sandbox.project()
    second = sandbox.run()
    assert_ok(second)

    assert second.changes() == REDEPLOY
    assert "--no-cpu-throttling" in second.only("run services update")["argv"]
    assert printed_url(second) == printed_url(first)
    assert printed_token(sandbox, second) == printed_token(sandbox, first)
    assert len(sandbox.secret_data("pronto-sheets-token")) == 1
    assert len(sandbox.secret_data("pronto-api-key")) == 1
    assert len(sandbox.secret_data("pronto-webhook-secret")) == 1
    for kind in ("service_accounts", "iam_policy", "firestore", "secrets", "enabled_apis"):
        assert sandbox.project()[kind] == state_after_first[kind], kind

    function = sandbox.function()
    assert function["deployCount"] == 2
    assert function["serviceConfig"]["cpuThrottling"] is False
    # The known URL goes straight into the redeploy: no extra settings update is needed.
    deploy = second.only("functions deploy")
    assert flag(deploy, "update-env-vars") == (
        f"GOOGLE_ALLOWED_EMAILS={SERVICE_ACCOUNT},GOOGLE_ALLOWED_AUDIENCES={printed_url(first)},"
        f"PRONTO_PUBLIC_URL={printed_url(first)},"
        f"PRONTO_STORE=firestore,GOOGLE_CLOUD_PROJECT={PROJECT}"
    )
    assert function["serviceConfig"]["environmentVariables"]["GOOGLE_ALLOWED_AUDIENCES"] == (
        printed_url(first)
    )


# ---------------------------------------------------------------- the build account


def test_the_build_runs_as_the_build_account_with_its_documented_roles(sandbox: Sandbox) -> None:
    """A dedicated build account is created once, granted its roles once, passed to the build."""
    first = sandbox.run()
    assert_ok(first)

    account = sandbox.project()["service_accounts"][BUILD_ACCOUNT]
    assert account["displayName"] == "Pronto Sheets build"
    assert sandbox.roles_of(f"serviceAccount:{BUILD_ACCOUNT}") == BUILD_ROLES
    grants = first.all("projects add-iam-policy-binding")
    assert [flag(call, "role") for call in grants] == [
        "roles/cloudbuild.builds.builder",
        "roles/logging.logWriter",
        "roles/artifactregistry.writer",
        "roles/datastore.user",
    ]
    assert all(flag(call, "condition") == "None" for call in grants)
    build_flag = f"projects/{PROJECT}/serviceAccounts/{BUILD_ACCOUNT}"
    assert flag(first.only("functions deploy"), "build-service-account") == build_flag
    assert sandbox.function()["buildConfig"]["serviceAccount"] == build_flag

    second = sandbox.run()
    assert_ok(second)
    assert second.changes() == REDEPLOY
    assert flag(second.only("functions deploy"), "build-service-account") == build_flag
    assert "roles/logging.logWriter: already granted." in second.stderr


def test_without_the_build_account_a_new_project_cannot_build(sandbox: Sandbox) -> None:
    """The stand-in refuses the build as Cloud Build does; deploy.sh's build account fixes it.

    The deploy command deploy.sh ran, without --build-service-account, builds as the
    project's default build account, which a new project has granted nothing: refused with
    Cloud Build's words, leaving a failed function without a URL. deploy.sh, run again,
    deploys that same function with its build account and ends with the URL and token.
    """
    first = sandbox.run()
    assert_ok(first)
    token = printed_token(sandbox, first)
    state = sandbox.state()
    del state["projects"][PROJECT]["functions"]
    sandbox.state_path.write_text(json.dumps(state))

    argv = first.only("functions deploy")["argv"]
    without = [arg for arg in argv if not arg.startswith("--build-service-account=")]
    refused = gcloud(sandbox, without)
    assert refused.returncode == 1
    assert refused.stderr == (
        "ERROR: (gcloud.functions.deploy) OperationError: code=3, message=Build failed: The "
        f"service account running this build projects/{PROJECT}/serviceAccounts/"
        "123456789012-compute@developer.gserviceaccount.com does not have permission to write "
        "logs to Cloud Logging. To fix this, grant the Logs Writer (roles/logging.logWriter) "
        "role to the service account.\n"
    )
    assert sandbox.function()["state"] == "FAILED"
    assert "uri" not in sandbox.function()["serviceConfig"]

    again = sandbox.run()
    assert_ok(again)
    assert "It exists but has no URL yet (an earlier deploy did not finish)" in again.stderr
    assert again.changes() == REDEPLOY
    assert sandbox.function()["state"] == "ACTIVE"
    assert printed_url(again) == sandbox.function()["serviceConfig"]["uri"]
    assert printed_token(sandbox, again) == token


def test_a_build_account_that_lost_its_roles_gets_them_back(sandbox: Sandbox) -> None:
    """If the build account loses roles, the build is refused; the next run grants them again."""
    first = sandbox.run()
    assert_ok(first)
    state = sandbox.state()
    member = f"serviceAccount:{BUILD_ACCOUNT}"
    for binding in state["projects"][PROJECT]["iam_policy"]:
        if binding["role"] in {"roles/cloudbuild.builds.builder", "roles/artifactregistry.writer"}:
            binding["members"].remove(member)
    sandbox.state_path.write_text(json.dumps(state))

    refused = gcloud(sandbox, first.only("functions deploy")["argv"])  # the same deploy
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "ERROR: (gcloud.functions.deploy) OperationError: code=13, message=Build failed with "
        "status: FAILURE. Could not build the function due to a missing permission on the "
        "build service account."
    )

    run = sandbox.run()
    assert_ok(run)
    assert run.changes() == [
        "projects add-iam-policy-binding",
        "projects add-iam-policy-binding",
        *REDEPLOY,
    ]
    assert sandbox.roles_of(member) == BUILD_ROLES


# ---------------------------------------------------------------- organisation policy


def test_an_organisation_that_refuses_all_users_gets_the_invoker_check_turned_off(
    sandbox: Sandbox,
) -> None:
    """Domain restricted sharing refuses allUsers: deploy.sh completes with the documented way.

    The function is deployed but gcloud cannot grant allUsers; deploy.sh says why, turns off
    Cloud Run's invoker IAM check, and ends with the URL and the token, which stays the gate.
    """
    sandbox.change_project(domain_restricted_sharing=True)
    run = sandbox.run()
    assert_ok(run)

    assert (
        "ERROR: (gcloud.functions.deploy) ResponseError: status=[400], code=[Ok], "
        f"message=[{ORG_REFUSAL}, perhaps due to an organization policy.]"
    ) in run.stderr
    assert (
        "The function is deployed, but Cloud Run does not let allUsers call it: gcloud's message "
        "above says why" in run.stderr
    )
    assert "https://cloud.google.com/run/docs/authenticating/public" in run.stderr
    assert run.changes()[-2:] == REDEPLOY
    update = run.only("run services update")
    assert "--no-invoker-iam-check" in update["argv"]
    assert "--no-cpu-throttling" in update["argv"]
    function = sandbox.function()
    assert function["invokers"] == []
    assert function["serviceConfig"]["invokerIamDisabled"] is True
    assert reachable_without_identity(function)
    assert printed_url(run) == function["serviceConfig"]["uri"]
    [(token, _)] = sandbox.secret_data("pronto-sheets-token")
    assert printed_token(sandbox, run) == token
    assert "Cloud Run's invoker IAM check\n    is off for this function instead" in run.stdout


def test_an_organisation_project_redeploys_without_asking_for_all_users_again(
    sandbox: Sandbox,
) -> None:
    """On a rerun the invoker check is already off: no allUsers request, no refusal, no error."""
    sandbox.change_project(domain_restricted_sharing=True)
    first = sandbox.run()
    assert_ok(first)
    state_after_first = sandbox.project()

    second = sandbox.run()
    assert_ok(second)
    assert ORG_REFUSAL not in second.stderr
    assert "--allow-unauthenticated" not in second.only("functions deploy")["argv"]
    assert second.changes() == REDEPLOY
    assert second.only("run services update")["argv"].count("--no-invoker-iam-check") == 0
    assert reachable_without_identity(sandbox.function())
    assert printed_url(second) == printed_url(first)
    assert printed_token(sandbox, second) == printed_token(sandbox, first)
    for kind in ("service_accounts", "iam_policy", "firestore", "secrets"):
        assert sandbox.project()[kind] == state_after_first[kind], kind


def test_public_access_is_read_back_from_the_service_not_taken_from_gcloud(
    sandbox: Sandbox,
) -> None:
    """After deploying, deploy.sh reads the service's IAM policy to see that allUsers is there."""
    run = sandbox.run()
    assert_ok(run)
    read = run.only("run services get-iam-policy")
    assert read["argv"][:4] == ["run", "services", "get-iam-policy", "pronto-sheets"]
    assert run.commands().index("run services get-iam-policy") > run.commands().index(
        "functions deploy"
    )
    assert "--no-invoker-iam-check" not in run.only("run services update")["argv"]
    assert sandbox.function()["invokers"] == ["allUsers"]


def test_an_older_gcloud_that_only_warns_still_ends_with_a_public_function(
    sandbox: Sandbox,
) -> None:
    """Older gcloud warns about the refused allUsers and exits 0: deploy.sh still notices.

    The function is private although the deploy "succeeded"; deploy.sh sees allUsers absent
    from the service's policy, turns the invoker check off, and checks again.
    """
    sandbox.change_project(domain_restricted_sharing=True, gcloud_refusal="warning")
    run = sandbox.run()
    assert_ok(run)

    assert "WARNING: Setting IAM policy failed, try `gcloud functions add-iam-policy-binding" in (
        run.stderr
    )
    assert ORG_REFUSAL not in run.stderr  # no error: gcloud exited 0
    assert "The function is deployed, but Cloud Run does not let allUsers call it" in run.stderr
    update = run.only("run services update")
    assert "--no-invoker-iam-check" in update["argv"]
    # Read before the fallback, and again after it, to see it took.
    assert run.commands().count("run services describe") == 2
    function = sandbox.function()
    assert function["invokers"] == []
    assert function["serviceConfig"]["invokerIamDisabled"] is True
    assert reachable_without_identity(function)
    assert "Cloud Run's invoker IAM check\n    is off for this function instead" in run.stdout

    again = sandbox.run()
    assert_ok(again)
    assert "--allow-unauthenticated" not in again.only("functions deploy")["argv"]
    assert "Setting IAM policy failed" not in again.stderr
    assert again.changes() == REDEPLOY


@pytest.mark.parametrize("refusal", ["error", "warning"])
def test_when_neither_all_users_nor_the_invoker_check_can_be_set_the_run_fails_saying_so(
    sandbox: Sandbox, refusal: str
) -> None:
    """An organisation refusing allUsers and requiring the invoker check: a clear failure."""
    sandbox.change_project(
        domain_restricted_sharing=True, require_invoker_iam=True, gcloud_refusal=refusal
    )
    run = sandbox.run()
    assert run.returncode == 1
    url = sandbox.function()["serviceConfig"]["uri"]
    assert "constraints/run.managed.requireInvokerIam" in run.stderr  # gcloud's refusal
    assert run.stderr.strip().splitlines()[-1] == (
        f"deploy.sh: The function is deployed at {url} but nobody can call it without a Google "
        "identity: Cloud Run refused both ways of opening it, granting allUsers and turning off "
        "its invoker IAM check (your organisation may forbid the first with domain restricted "
        "sharing, constraints/iam.allowedPolicyMemberDomains, and require the second with "
        "constraints/run.managed.requireInvokerIam). Ask an organisation administrator to allow "
        f"one of them for project {PROJECT}, or to grant you the Cloud Run Admin role if that "
        "is what is missing, then run ./deploy.sh again."
    )
    assert not reachable_without_identity(sandbox.function())
    assert run.stdout == ""  # no "deployed" summary


SCENARIOS = {
    "new-project": {},
    "organisation-error": {"domain_restricted_sharing": True},
    "organisation-warning": {"domain_restricted_sharing": True, "gcloud_refusal": "warning"},
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_is_ever_printed(sandbox: Sandbox, scenario: str) -> None:
    """Neither the key, the shared token nor the webhook secret appear in anything printed.

    First run, rerun (which reads the stored token back) and a dry run, in a new project and
    in an organisation project under both gcloud behaviours; the summary gives the command.
    """
    sandbox.change_project(**SCENARIOS[scenario])
    runs = [sandbox.run(), sandbox.run(), sandbox.run("--dry-run")]
    [(token, _)] = sandbox.secret_data("pronto-sheets-token")
    [(webhook, _)] = sandbox.secret_data("pronto-webhook-secret")
    assert len(token) == len(webhook) == 64
    for run in runs:
        assert_ok(run)
        printed = run.stdout + run.stderr
        for secret in (API_KEY, token, webhook):
            assert secret not in printed
        assert "print it with: gcloud secrets versions access latest" in run.stdout
    assert reachable_without_identity(sandbox.function())
    assert printed_token(sandbox, runs[0]) == token


def test_the_webhook_secret_is_made_once_and_kept(sandbox: Sandbox) -> None:
    """A per-deployment webhook secret is created on the first run and reused on every rerun."""
    first = sandbox.run()
    assert_ok(first)
    [(secret, source)] = sandbox.secret_data("pronto-webhook-secret")
    assert source == "stdin"
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert flag(first.only("functions deploy"), "set-secrets").endswith(
        ",PRONTO_WEBHOOK_SECRET=pronto-webhook-secret:latest"
    )

    second = sandbox.run()
    assert_ok(second)
    assert sandbox.secret_data("pronto-webhook-secret") == [(secret, "stdin")]
    assert "The webhook secret already exists: kept." in second.stderr
    environment = sandbox.function()["serviceConfig"]["environmentVariables"]
    assert environment["PRONTO_PUBLIC_URL"] == printed_url(second)


# ---------------------------------------------------------------- Firestore


def test_firestore_is_created_in_native_mode_with_ttl_and_access_for_the_function(
    sandbox: Sandbox,
) -> None:
    """The (default) database, TTL on expire_at for both collections, datastore.user, the env."""
    assert_ok(sandbox.run())
    [(name, database)] = sandbox.project()["firestore"].items()
    assert name == "(default)"
    assert (database["type"], database["locationId"]) == ("FIRESTORE_NATIVE", "us-central1")
    assert {group: ttl["field"] for group, ttl in database["ttl"].items()} == dict.fromkeys(
        TTL_GROUPS, "expire_at"
    )
    assert "roles/datastore.user" in sandbox.roles_of(f"serviceAccount:{SERVICE_ACCOUNT}")
    environment = sandbox.function()["serviceConfig"]["environmentVariables"]
    assert environment["PRONTO_STORE"] == "firestore"
    assert environment["GOOGLE_CLOUD_PROJECT"] == PROJECT
    assert "PRONTO_FIRESTORE_DATABASE" not in environment


def test_a_named_firestore_database_and_location_are_used_and_passed_on(sandbox: Sandbox) -> None:
    """PRONTO_FIRESTORE_DATABASE and _LOCATION pick the database; a rerun creates nothing."""
    env = {"PRONTO_FIRESTORE_DATABASE": "pronto-sheets", "PRONTO_FIRESTORE_LOCATION": "eur3"}
    first = sandbox.run(env=env)
    assert_ok(first)
    database = sandbox.project()["firestore"]["pronto-sheets"]
    assert (database["type"], database["locationId"]) == ("FIRESTORE_NATIVE", "eur3")
    assert set(database["ttl"]) == TTL_GROUPS
    environment = sandbox.function()["serviceConfig"]["environmentVariables"]
    assert environment["PRONTO_FIRESTORE_DATABASE"] == "pronto-sheets"

    second = sandbox.run(env=env)
    assert_ok(second)
    assert second.changes() == REDEPLOY


def test_an_existing_database_gets_only_the_ttl_policy_it_lacks(sandbox: Sandbox) -> None:
    """A database already there with one TTL policy: only the missing policies are added."""
    sandbox.change_project(
        enabled_apis=["firestore.googleapis.com"],
        firestore={
            "(default)": {
                "name": f"projects/{PROJECT}/databases/(default)",
                "type": "FIRESTORE_NATIVE",
                "locationId": "nam5",
                "ttl": {"pronto_sheets_answers": {"field": "expire_at", "state": "ACTIVE"}},
            }
        },
    )
    run = sandbox.run()
    assert_ok(run)
    assert "firestore databases create" not in run.changes()
    added = [flag(ttl, "collection-group") for ttl in run.all("firestore fields ttls update")]
    assert added == ["pronto_sheets_ledger", "pronto_sheets_subjects"]
    assert sandbox.project()["firestore"]["(default)"]["locationId"] == "nam5"


def test_a_datastore_mode_database_is_refused_before_any_change(sandbox: Sandbox) -> None:
    """A (default) database in Datastore mode cannot hold the store: say how to use another."""
    sandbox.change_project(
        enabled_apis=["firestore.googleapis.com"],
        firestore={
            "(default)": {
                "name": f"projects/{PROJECT}/databases/(default)",
                "type": "DATASTORE_MODE",
                "locationId": "us-east1",
                "ttl": {},
            }
        },
    )
    run = sandbox.run()
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"deploy.sh: The Firestore database (default) of project {PROJECT} is in Datastore mode, "
        "and pronto-sheets needs one in Native mode. Set PRONTO_FIRESTORE_DATABASE=pronto-sheets "
        "to have deploy.sh create a second database, in Native mode, next to yours; then run "
        "./deploy.sh again."
    )
    assert run.changes() == []


# ---------------------------------------------------------------- what is uploaded


def test_the_real_function_folder_uploads_only_what_the_function_imports(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Deployed from the repository's own function/, the upload holds the function and no
    tool (the simulator, the Sheets emulator and the CLI live in tools/), and the files
    uploaded, the vocabulary among them, are enough to import the function."""
    shutil.rmtree(sandbox.root / "function")
    (sandbox.root / "function").symlink_to(REPO_ROOT / "function", target_is_directory=True)
    run = sandbox.run()
    assert_ok(run)
    uploaded = sandbox.function()["buildConfig"]["sourceFiles"]

    assert {"main.py", "requirements.txt", "pronto_sheets/__init__.py"} <= set(uploaded)
    assert {
        "pronto_sheets/http/routes.py",
        "pronto_sheets/http/fill_route.py",
        "pronto_sheets/vocabulary.json",
    } <= set(uploaded)
    for name in uploaded:
        parts = Path(name).parts
        assert not {"simulator", "sheets_emulator", "tests", "__pycache__", ".venv"} & set(parts)
        assert not any(part.endswith(".egg-info") for part in parts), name
        assert not parts[-1].startswith("test_"), name
        assert not name.endswith((".pyc", ".pyo")), name
        assert parts[0] in {"main.py", "requirements.txt", "pronto_sheets"}, name

    # Exactly the uploaded files, alone on sys.path, import the function and every module.
    copy = tmp_path / "uploaded"
    for name in uploaded:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "function" / name, copy / name)
    modules = [
        ".".join(Path(name).with_suffix("").parts)
        for name in uploaded
        if name.endswith(".py") and name != "main.py"
    ]
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(copy)!r})\n"
        "import main\n"
        f"for module in {modules!r}:\n"
        "    loaded = importlib.import_module(module)\n"
        f"    assert loaded.__file__.startswith({str(copy)!r}), loaded.__file__\n"
    )
    imported = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr


def test_caches_virtualenvs_tests_and_tools_are_never_uploaded(sandbox: Sandbox) -> None:
    """Whatever lies around in function/, only main.py, requirements.txt and the package go."""
    function = sandbox.root / "function"
    for junk in (
        "__pycache__/main.cpython-312.pyc",
        ".venv/lib/python3.12/site-packages/httpx/__init__.py",
        "pronto_sheets.egg-info/PKG-INFO",
        "tests/test_main.py",
        "notes.md",
        "pronto_sheets/__pycache__/routes.cpython-312.pyc",
        "pronto_sheets/test_routes.py",
        "pronto_sheets/tests/conftest.py",
    ):
        (function / junk).parent.mkdir(parents=True, exist_ok=True)
        (function / junk).write_text("# not for the function\n")
    for kept in ("pronto_sheets/__init__.py", "pronto_sheets/routes.py", "pronto_sheets/py.typed"):
        (function / kept).parent.mkdir(parents=True, exist_ok=True)
        (function / kept).write_text("")
    assert_ok(sandbox.run())
    assert sandbox.function()["buildConfig"]["sourceFiles"] == [
        "main.py",
        "pronto_sheets/__init__.py",
        "pronto_sheets/py.typed",
        "pronto_sheets/routes.py",
        "requirements.txt",
    ]


# ---------------------------------------------------------------- the key's path


def test_api_key_reaches_secret_manager_only_through_stdin(sandbox: Sandbox) -> None:
    """The key is in Secret Manager, sent on stdin, never in an argv, an environment or output.

    The shared token takes the same path, and is never printed either.
    """
    runs = [sandbox.run(), sandbox.run(), sandbox.run("--dry-run")]
    for run in runs:
        assert_ok(run)
        assert API_KEY not in run.stdout
        assert API_KEY not in run.stderr

    assert sandbox.secret_data("pronto-api-key") == [(API_KEY, "stdin")]
    create = next(
        call
        for call in runs[0].calls
        if command_of(call) == "secrets create" and "pronto-api-key" in call["argv"]
    )
    assert flag(create, "data-file") == "-"

    [(token, token_source)] = sandbox.secret_data("pronto-sheets-token")
    assert token_source == "stdin"
    key_digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    calls = sandbox.logged()
    assert len(calls) > 20
    for call in calls:
        assert not any(API_KEY in arg or token in arg for arg in call["argv"]), call["argv"]
        assert call["pronto_env"] == []
        assert key_digest not in call["env_sha256"], call["argv"]


def test_new_key_on_a_later_run_becomes_a_new_secret_version(sandbox: Sandbox) -> None:
    """A changed PRONTO_API_KEY is added as version 2 (via stdin); an unset one keeps the key."""
    assert_ok(sandbox.run())
    rotated = "pk_live_rotated_0000111122223333"

    changed = sandbox.run(key=rotated)
    assert_ok(changed)
    assert changed.changes() == ["secrets versions add", *REDEPLOY]
    assert sandbox.secret_data("pronto-api-key") == [(API_KEY, "stdin"), (rotated, "stdin")]

    unset = sandbox.run(key=None)
    assert_ok(unset)
    assert unset.changes() == REDEPLOY
    assert "The stored Pronto API key is kept (set PRONTO_API_KEY to replace it)." in unset.stderr


def test_key_typed_at_the_prompt_is_hidden_and_stored(sandbox: Sandbox) -> None:
    """Without PRONTO_API_KEY, the key is asked on the terminal with echo off and stored."""
    typed = "pk_live_typed_9999888877776666"
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            ["bash", str(sandbox.root / "deploy.sh")],
            cwd=sandbox.root,
            env=sandbox.env(key=None),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # `read -s` turns echo off when it starts waiting: type only then.
        wait_until(
            lambda: not termios.tcgetattr(terminal)[3] & termios.ECHO,
            timeout=60,
            what="deploy.sh to ask for the key with echo off",
        )
        os.write(controller, f"{typed}\n".encode())
        stdout, stderr = process.communicate(timeout=120)
        os.set_blocking(controller, False)
        try:
            shown_on_terminal = os.read(controller, 65536)
        except (BlockingIOError, OSError):
            shown_on_terminal = b""
    finally:
        os.close(controller)
        os.close(terminal)

    assert process.returncode == 0, stderr
    assert "Pronto API key (typing is hidden): " in stderr
    assert typed.encode() not in shown_on_terminal
    assert typed not in stdout + stderr
    assert sandbox.secret_data("pronto-api-key") == [(typed, "stdin")]


def test_missing_key_without_a_terminal_is_refused_before_any_change(sandbox: Sandbox) -> None:
    """With no key and nobody to ask, deploy.sh says to set PRONTO_API_KEY and changes nothing."""
    run = sandbox.run(key=None)
    assert run.returncode == 1
    assert run.stderr.strip().endswith(
        "deploy.sh: The Pronto API key is needed and there is no terminal to ask for it. "
        "Set PRONTO_API_KEY first, e.g. read -rs PRONTO_API_KEY && export PRONTO_API_KEY, "
        "then run ./deploy.sh again."
    )
    assert run.changes() == []
    assert run.commands() == ["services list", "projects get-iam-policy"]


def test_during_a_token_rotation_the_new_token_is_the_one_printed(sandbox: Sandbox) -> None:
    """With "new,old" stored (both accepted while sheets move over), deploy.sh prints "new"."""
    assert_ok(sandbox.run())
    old = printed_token(sandbox, sandbox.run())
    state = sandbox.state()
    versions = state["projects"][PROJECT]["secrets"]["pronto-sheets-token"]["versions"]
    versions.append(
        {"version": 2, "data": f"feed{'0' * 60},{old}", "data_source": "stdin", "state": "ENABLED"}
    )
    sandbox.state_path.write_text(json.dumps(state))

    run = sandbox.run()
    assert_ok(run)
    assert printed_token(sandbox, run) == f"feed{'0' * 60}"
    assert run.changes() == REDEPLOY


def test_unreadable_token_stops_the_run_instead_of_replacing_it(sandbox: Sandbox) -> None:
    """If the stored token cannot be read, deploy.sh stops: a new one would cut off every sheet."""
    assert_ok(sandbox.run())
    state = sandbox.state()
    state["projects"][PROJECT]["secrets"]["pronto-sheets-token"]["deny_access"] = True
    sandbox.state_path.write_text(json.dumps(state))

    run = sandbox.run()
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "deploy.sh: gcloud could not read secret pronto-sheets-token (its message is above). "
        f"Check that you may administer project {PROJECT} (Owner or Secret Manager Admin role), "
        "then run ./deploy.sh again."
    )
    assert run.changes() == []
    assert len(sandbox.secret_data("pronto-sheets-token")) == 1


def test_settings_from_the_environment_reach_the_function_commas_and_all(
    sandbox: Sandbox,
) -> None:
    """Tuning variables, retention and extra ID-token identities are passed on; commas survive."""
    client_id = "123-abc.apps.googleusercontent.com"
    env = {
        "PRONTO_DAILY_CREDIT_BUDGET": "1000",
        "PRONTO_CREDITS_PER_PERSONAL_EMAIL": "5",
        # "Keep answers 7 days, not-found 2": the function writes expire_at from these.
        "PRONTO_ANSWER_TTL_DAYS": "7",
        "PRONTO_NOT_FOUND_TTL_DAYS": "2",
        "GOOGLE_ALLOWED_AUDIENCES": client_id,
        "GOOGLE_ALLOWED_EMAILS": "ops@example.com,sales@example.com",
    }
    first = sandbox.run(env=env)
    assert_ok(first)
    url = sandbox.function()["serviceConfig"]["uri"]
    assert flag(first.only("functions deploy"), "update-env-vars").startswith("^;^")
    expected = {
        "GOOGLE_ALLOWED_EMAILS": f"{SERVICE_ACCOUNT},ops@example.com,sales@example.com",
        "GOOGLE_ALLOWED_AUDIENCES": f"{url},{client_id}",
        "PRONTO_PUBLIC_URL": url,
        "PRONTO_DAILY_CREDIT_BUDGET": "1000",
        "PRONTO_CREDITS_PER_PERSONAL_EMAIL": "5",
        "PRONTO_ANSWER_TTL_DAYS": "7",
        "PRONTO_NOT_FOUND_TTL_DAYS": "2",
        "PRONTO_STORE": "firestore",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
    }
    assert sandbox.function()["serviceConfig"]["environmentVariables"] == expected
    # The store's expiry stays enforced by Firestore's TTL policy on expire_at.
    ttl = sandbox.project()["firestore"]["(default)"]["ttl"]
    assert ttl["pronto_sheets_answers"]["field"] == "expire_at"

    assert_ok(sandbox.run(env=env))
    assert sandbox.function()["serviceConfig"]["environmentVariables"] == expected


# ---------------------------------------------------------------- dry run


def test_dry_run_changes_nothing_and_prints_every_command(sandbox: Sandbox) -> None:
    """--dry-run only reads, prints each command with secrets redacted, and needs no key."""
    before = sandbox.state_path.read_text()
    run = sandbox.run("--dry-run", "--schedule", "0 * * * *", "--spreadsheet", SPREADSHEET_ID)
    assert_ok(run)
    assert run.changes() == []
    assert sandbox.state_path.read_text() == before

    printed = run.stdout.splitlines()
    assert printed[0] == (
        "# Dry run for project demo-project-42: the commands deploy.sh would run. "
        "Nothing is changed."
    )
    commands = commands_printed(run)
    grant = f"gcloud projects add-iam-policy-binding {PROJECT}"
    ttl = "gcloud firestore fields ttls update expire_at"
    assert [line.split(" --")[0] for line in commands] == [
        "gcloud services enable cloudfunctions.googleapis.com run.googleapis.com "
        "cloudbuild.googleapis.com artifactregistry.googleapis.com secretmanager.googleapis.com "
        "sheets.googleapis.com iam.googleapis.com firestore.googleapis.com "
        "cloudscheduler.googleapis.com",
        "gcloud iam service-accounts create pronto-sheets-fn",
        "gcloud iam service-accounts create pronto-sheets-build",
        grant,
        grant,
        grant,
        "printf '%s' '<redacted: Pronto API key>' | gcloud secrets create pronto-api-key",
        "printf '%s' '<redacted: shared token>' | gcloud secrets create pronto-sheets-token",
        "printf '%s' '<redacted: webhook secret>' | gcloud secrets create pronto-webhook-secret",
        "gcloud secrets add-iam-policy-binding pronto-api-key",
        "gcloud secrets add-iam-policy-binding pronto-sheets-token",
        "gcloud secrets add-iam-policy-binding pronto-webhook-secret",
        "gcloud firestore databases create '--database=(default)'",
        ttl,
        ttl,
        ttl,
        grant,
        "gcloud functions deploy pronto-sheets",
        "gcloud run services update pronto-sheets",
        f"gcloud scheduler jobs create http pronto-sheets-fill-{SPREADSHEET_ID}",
    ]
    deploy = commands[17]
    assert "--set-secrets=PRONTO_API_KEY=pronto-api-key:latest," in deploy
    assert f"--build-service-account=projects/{PROJECT}/serviceAccounts/{BUILD_ACCOUNT}" in deploy
    assert "--no-cpu-throttling" in commands[18]
    assert (
        "  Token for Settings  print it with: gcloud secrets versions access latest "
        f"--secret=pronto-sheets-token --project={PROJECT} | cut -d, -f1" in printed
    )
    assert API_KEY not in run.stdout + run.stderr

    without_key = sandbox.run("--dry-run", key=None)
    assert_ok(without_key)
    assert without_key.changes() == []


def test_dry_run_after_a_deployment_prints_updates_only(sandbox: Sandbox) -> None:
    """On a deployed project --dry-run shows the redeploy with the known URL, nothing to create."""
    assert_ok(sandbox.run())
    before = sandbox.state_path.read_text()
    run = sandbox.run("--dry-run")
    assert_ok(run)
    assert run.changes() == []
    assert sandbox.state_path.read_text() == before
    commands = commands_printed(run)
    assert [line.split(" --")[0] for line in commands] == [
        "gcloud functions deploy pronto-sheets",
        "gcloud run services update pronto-sheets",
    ]
    assert " create " not in run.stdout
    url = sandbox.function()["serviceConfig"]["uri"]
    assert f"  Function URL        {url}" in run.stdout


# ---------------------------------------------------------------- schedule


def test_schedule_creates_a_job_that_posts_to_fill_then_updates_it(sandbox: Sandbox) -> None:
    """--schedule makes an OIDC-signed POST /fill job for the sheet; a rerun updates that job."""
    first = sandbox.run("--schedule", "0 * * * *", "--spreadsheet", SPREADSHEET_ID)
    assert_ok(first)
    assert "cloudscheduler.googleapis.com" in sandbox.project()["enabled_apis"]
    assert first.changes()[-1] == "scheduler jobs create http"
    url = sandbox.function()["serviceConfig"]["uri"]

    job = sandbox.project()["scheduler_jobs"][f"us-central1/pronto-sheets-fill-{SPREADSHEET_ID}"]
    target = job["httpTarget"]
    assert job["schedule"] == "0 * * * *"
    assert job["timeZone"] == "Etc/UTC"
    assert target["uri"] == f"{url}/fill"
    assert target["httpMethod"] == "POST"
    assert target["headers"] == {"Content-Type": "application/json"}
    # The fill stops at 25 minutes, inside the scheduler's 30-minute limit for HTTP targets.
    assert json.loads(base64.b64decode(target["body"])) == {
        "spreadsheet_id": SPREADSHEET_ID,
        "deadline_s": 1500,
    }
    assert job["attemptDeadline"] == "1800s"
    assert target["oidcToken"] == {"serviceAccountEmail": SERVICE_ACCOUNT, "audience": url}
    # The function accepts exactly that identity and audience.
    environment = sandbox.function()["serviceConfig"]["environmentVariables"]
    assert environment["GOOGLE_ALLOWED_EMAILS"] == SERVICE_ACCOUNT
    assert environment["GOOGLE_ALLOWED_AUDIENCES"] == url

    second = sandbox.run(
        "--schedule", "30 6 * * 1-5", "--spreadsheet", SPREADSHEET_ID, "--time-zone", "Europe/Paris"
    )
    assert_ok(second)
    assert second.changes() == [*REDEPLOY, "scheduler jobs update http"]
    jobs = sandbox.project()["scheduler_jobs"]
    assert list(jobs) == [f"us-central1/pronto-sheets-fill-{SPREADSHEET_ID}"]
    updated = jobs[f"us-central1/pronto-sheets-fill-{SPREADSHEET_ID}"]
    assert (updated["schedule"], updated["timeZone"]) == ("30 6 * * 1-5", "Europe/Paris")
    assert updated["httpTarget"]["oidcToken"] == {
        "serviceAccountEmail": SERVICE_ACCOUNT,
        "audience": url,
    }
    assert (
        f'Sheet {SPREADSHEET_ID} is filled on schedule "30 6 * * 1-5" (Europe/Paris). To stop it:'
        in second.stdout
    )


def test_the_stop_command_names_the_region_the_job_is_in(sandbox: Sandbox) -> None:
    """Deployed to another region, the printed delete command names that region."""
    run = sandbox.run(
        "--schedule", "0 * * * *", "--spreadsheet", SPREADSHEET_ID, env={"REGION": "europe-west1"}
    )
    assert_ok(run)
    assert list(sandbox.project()["scheduler_jobs"]) == [
        f"europe-west1/pronto-sheets-fill-{SPREADSHEET_ID}"
    ]
    assert (
        f"      gcloud scheduler jobs delete pronto-sheets-fill-{SPREADSHEET_ID} "
        f"--location=europe-west1 --project={PROJECT}\n"
    ) in run.stdout


# ---------------------------------------------------------------- Apps Script


def test_apps_script_push_adds_the_url_to_the_manifest_whitelist(sandbox: Sandbox) -> None:
    """--apps-script pushes a copy whose manifest allows the function URL, all else kept."""
    source_manifest = (sandbox.root / "apps_script" / "appsscript.json").read_text()
    for _ in range(2):  # twice: the URL must be listed once, not once per run
        run = sandbox.run("--apps-script", SCRIPT_ID)
        assert_ok(run)
        assert run.changes()[-1] == "push"
    url = sandbox.function()["serviceConfig"]["uri"]

    pushes = sandbox.state()["clasp"]["pushes"]
    assert len(pushes) == 2
    pushed = pushes[-1]
    assert pushed["scriptId"] == SCRIPT_ID
    assert pushed["files"] == ["Formulas.js", "appsscript.json"]
    # The add-in may fetch this function and nothing else (a prefix with a path, hence "/").
    assert pushed["manifest"] == MANIFEST | {"urlFetchWhitelist": [f"{url}/"]}
    push = run.only("push")
    assert push["argv"] == ["push", "--force"]
    assert not Path(push["cwd"]).exists()  # the temporary copy is cleaned up
    assert not Path(run.only("pull")["cwd"]).exists()
    assert (sandbox.root / "apps_script" / "appsscript.json").read_text() == source_manifest
    assert not (sandbox.root / ".clasp.json").exists()
    assert not (sandbox.root / "apps_script" / ".clasp.json").exists()
    assert "Put the Apps Script code into your sheet" not in run.stdout
    # The new project's untouched Code.gs went without asking; now the project is ours alone.
    assert sandbox.script_files() == {"Formulas": "SERVER_JS", "appsscript": "JSON"}


def test_a_new_projects_empty_code_gs_is_replaced_without_asking(sandbox: Sandbox) -> None:
    """The Code.gs of a new script project (an empty myFunction) needs no --replace-script."""
    run = sandbox.run("--apps-script", SCRIPT_ID)
    assert_ok(run)
    assert "It holds nothing but pronto-sheets files and an untouched Code.gs" in run.stderr
    assert (
        "Pushing replaces the whole project: the new project's empty Code.gs (function "
        "myFunction) is replaced." in run.stderr
    )
    assert "Code" not in sandbox.script_files()


def test_a_script_project_holding_other_files_is_not_replaced(sandbox: Sandbox) -> None:
    """Files that are not ours stop the run before any change, naming them and the way on."""
    state = sandbox.state()
    state["clasp"]["projects"][SCRIPT_ID]["files"] = [
        {"name": "Code", "type": "SERVER_JS", "source": "function onEdit(e) { log(e); }\n"},
        {"name": "Formulas", "type": "SERVER_JS", "source": "function OLD() {}\n"},
        {"name": "lib/Helpers", "type": "SERVER_JS", "source": "function log(x) {}\n"},
        {"name": "Dialog", "type": "HTML", "source": "<p>Hi</p>\n"},
        {"name": "appsscript", "type": "JSON", "source": "{}"},
    ]
    sandbox.state_path.write_text(json.dumps(state))
    before = sandbox.script_files()

    run = sandbox.run("--apps-script", SCRIPT_ID)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"deploy.sh: Apps Script project {SCRIPT_ID} holds files that are not part of "
        "pronto-sheets: Code.gs, Dialog.html, lib/Helpers.gs. Pushing replaces the whole "
        "project, so they would be deleted. Copy what you want to keep (in the sheet: "
        "Extensions ▸ Apps Script), then run ./deploy.sh again with --replace-script; or use "
        "the Script ID of a sheet whose script holds nothing else."
    )
    assert run.changes() == []
    assert sandbox.script_files() == before

    replaced = sandbox.run("--apps-script", SCRIPT_ID, "--replace-script")
    assert_ok(replaced)
    assert (
        "--replace-script: pushing deletes these files of the script project: Code.gs, "
        "Dialog.html, lib/Helpers.gs." in replaced.stderr
    )
    assert sandbox.script_files() == {"Formulas": "SERVER_JS", "appsscript": "JSON"}

    # From now on the project holds only pronto-sheets files: no flag needed.
    again = sandbox.run("--apps-script", SCRIPT_ID)
    assert_ok(again)
    assert again.changes() == [*REDEPLOY, "push"]


def test_the_repository_itself_deploys_and_pushes(sandbox: Sandbox) -> None:
    """The real function/ (entry point `pronto`) and apps_script/ go through deploy.sh as is."""
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for part in ("function", "apps_script"):
        shutil.rmtree(sandbox.root / part)
        shutil.copytree(REPO_ROOT / part, sandbox.root / part, ignore=ignored)
    run = sandbox.run("--apps-script", SCRIPT_ID)
    assert_ok(run)
    url = sandbox.function()["serviceConfig"]["uri"]
    assert "main.py" in sandbox.function()["buildConfig"]["sourceFiles"]
    assert "requirements.txt" in sandbox.function()["buildConfig"]["sourceFiles"]

    real_manifest = json.loads((REPO_ROOT / "apps_script" / "appsscript.json").read_text())
    pushed = sandbox.state()["clasp"]["pushes"][-1]
    assert pushed["manifest"] == real_manifest | {"urlFetchWhitelist": [f"{url}/"]}
    scripts = sorted(
        path.name
        for path in (REPO_ROOT / "apps_script").iterdir()
        if path.suffix in {".js", ".html"} or path.name == "appsscript.json"
    )
    assert pushed["files"] == scripts


def test_apps_script_without_manifest_is_refused(sandbox: Sandbox) -> None:
    """Without apps_script/appsscript.json, --apps-script stops before any call, saying why."""
    (sandbox.root / "apps_script" / "appsscript.json").unlink()
    run = sandbox.run("--apps-script", SCRIPT_ID)
    assert run.returncode == 1
    assert run.stderr == (
        "deploy.sh: apps_script/appsscript.json is missing, so there is no Apps Script project "
        "to push. Use a complete copy of the repository, or leave out --apps-script and copy the "
        "Apps Script files by hand.\n"
    )
    assert run.calls == []


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("args", "env", "sentence"),
    [
        (
            (),
            {"GOOGLE_CLOUD_PROJECT": ""},
            "Set GOOGLE_CLOUD_PROJECT to your Google Cloud project id, e.g. export "
            "GOOGLE_CLOUD_PROJECT=my-project",
        ),
        (
            (),
            {"GOOGLE_CLOUD_PROJECT": "My Project"},
            "GOOGLE_CLOUD_PROJECT=My Project does not look like a project id",
        ),
        (
            ("--schedule", "every hour", "--spreadsheet", SPREADSHEET_ID),
            {},
            "--schedule 'every hour' is not a cron schedule. Give five fields: minute hour "
            "day-of-month month day-of-week, e.g. --schedule '0 * * * *' for every hour",
        ),
        (
            ("--schedule", "0 * * *", "--spreadsheet", SPREADSHEET_ID),
            {},
            "--schedule '0 * * *' is not a cron schedule.",
        ),
        (
            ("--schedule", "0 * * * *", "--spreadsheet", "https://docs.google.com/x"),
            {},
            "--spreadsheet 'https://docs.google.com/x' is not a spreadsheet id. Copy the long "
            "part of the sheet's address between /d/ and /edit",
        ),
        (
            ("--schedule", "0 * * * *"),
            {},
            "--schedule needs --spreadsheet too: the id of the sheet to fill",
        ),
        (
            ("--apps-script", "abc"),
            {},
            "--apps-script 'abc' is not an Apps Script id. In the sheet open Extensions ▸ Apps "
            "Script ▸ Project Settings and copy the Script ID.",
        ),
        (("--force",), {}, "Unknown option --force. Run ./deploy.sh --help to see the options."),
        (
            ("--replace-script",),
            {},
            "--replace-script goes with --apps-script SCRIPT_ID: it allows replacing the files "
            "of that script project.",
        ),
        (
            (),
            {"PRONTO_FIRESTORE_DATABASE": "Pronto Sheets"},
            "PRONTO_FIRESTORE_DATABASE=Pronto Sheets is not a Firestore database id.",
        ),
        (
            (),
            {"PRONTO_FIRESTORE_LOCATION": "Europe"},
            "PRONTO_FIRESTORE_LOCATION=Europe is not a Firestore location.",
        ),
        (
            (),
            {"PRONTO_ANSWER_TTL_DAYS": "a month"},
            "PRONTO_ANSWER_TTL_DAYS=a month is not a number of days. Give a whole number of "
            "days, 1 or more (e.g. PRONTO_ANSWER_TTL_DAYS=30), or unset it to keep the default.",
        ),
        (
            (),
            {"PRONTO_NOT_FOUND_TTL_DAYS": "0"},
            "PRONTO_NOT_FOUND_TTL_DAYS=0 is not a number of days.",
        ),
    ],
    ids=[
        "no-project",
        "bad-project",
        "words-for-cron",
        "four-field-cron",
        "url-for-spreadsheet",
        "schedule-without-sheet",
        "bad-script-id",
        "unknown-option",
        "replace-without-script",
        "bad-database",
        "bad-location",
        "words-for-ttl",
        "zero-ttl",
    ],
)
def test_refusals_say_what_to_do_next_and_call_nothing(
    sandbox: Sandbox, args: Sequence[str], env: dict[str, str], sentence: str
) -> None:
    """Bad input is refused before any gcloud call, with a sentence saying what to do."""
    run = sandbox.run(*args, env=env)
    assert run.returncode == 1
    assert run.stderr.startswith("deploy.sh: ")
    assert sentence in run.stderr
    assert run.calls == []
    assert run.stdout == ""


def test_unknown_project_is_refused_with_what_to_check(sandbox: Sandbox) -> None:
    """A project gcloud cannot see stops the run at the first look-up, naming what to check."""
    run = sandbox.run(env={"GOOGLE_CLOUD_PROJECT": "no-such-project-1"})
    assert run.returncode == 1
    assert "PERMISSION_DENIED" in run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "deploy.sh: gcloud services list failed (its message is above). Check that "
        "GOOGLE_CLOUD_PROJECT=no-such-project-1 is your project id and that gcloud is logged in "
        "(gcloud auth login) as someone who may administer it, then run ./deploy.sh again."
    )
    assert run.commands() == ["services list"]
    assert run.stdout == ""


def test_project_without_billing_is_refused_with_the_billing_link(sandbox: Sandbox) -> None:
    """When Google refuses to enable APIs for lack of billing, the refusal links to billing."""
    state = sandbox.state()
    state["projects"][PROJECT]["billing"] = False
    sandbox.state_path.write_text(json.dumps(state))
    run = sandbox.run()
    assert run.returncode == 1
    assert (
        "FAILED_PRECONDITION: Billing account for project '123456789012' is not found."
        in run.stderr
    )
    assert run.stderr.strip().splitlines()[-1] == (
        "deploy.sh: gcloud services enable failed (gcloud's message is above). A new project "
        "needs a billing account: link one at https://console.cloud.google.com/billing/"
        f"linkedaccount?project={PROJECT} Then run ./deploy.sh again: finished steps are skipped."
    )
    assert run.changes() == ["services enable"]
