"""A stand-in for the Google Cloud CLI: the commands deploy.sh uses, answering like gcloud.

It keeps the fake cloud in the JSON state named by ``DEPLOY_STANDIN_STATE`` and logs every
argv (see standin_state). It behaves like the real tool where deploy.sh depends on it:

- ``describe`` of something missing exits 1 with ``NOT_FOUND`` on stderr; ``create`` of
  something that exists exits 1 with ``ALREADY_EXISTS`` (or the conflict gcloud reports);
- a command of a disabled API fails with ``PERMISSION_DENIED ... SERVICE_DISABLED``;
  enabling a billed API in a project without billing fails with ``FAILED_PRECONDITION``;
- flags are checked per command: an unknown flag exits 2 (``unrecognized arguments``);
- ``--format=value(a.b,c)``, ``--format=json`` and ``--flatten=x[].y`` shape the output;
- ``--data-file=-`` reads the secret from stdin, and the data is kept in the state;
- ``functions deploy`` creates or updates, refuses secrets the runtime service account may
  not read, a source without the entry point, concurrency > 1 below one CPU; a new
  function gets a ``run.app`` URL (``serviceConfig.uri``) that stays across updates. It
  records what it would upload (``buildConfig.sourceFiles``, after ``.gcloudignore``: see
  gcloud_source);
- the build runs as ``--build-service-account`` (kept for later deploys) or else as the
  project's default build account, which a project created since Cloud Build's 2024 change
  has not granted anything: Cloud Build refuses, with its own words, a build account that
  cannot write logs, store the image and read the source (through its project roles);
  a new function whose build failed is left in state ``FAILED``, without a URL;
- ``projects get-iam-policy`` / ``add-iam-policy-binding`` keep the project's roles
  (``iam_policy``), ``firestore databases`` and ``firestore fields ttls`` its Firestore
  databases and TTL fields, and ``run services describe`` shows a function's Cloud Run
  service the Knative way, its settings as annotations;
- in a project whose state says ``"domain_restricted_sharing": true`` (an organisation
  policy), ``--allow-unauthenticated`` deploys the function and then cannot grant
  ``allUsers``. How gcloud reports it depends on its version (``"gcloud_refusal"``):
  ``"error"`` (default; today's gcloud lets the HttpError of the invoker binding through,
  exit 1) or ``"warning"`` (older gcloud: ``WARNING: Setting IAM policy failed, try …``
  and exit 0, the function private); see REFUSAL_AS_WARNING. ``run services update
  --no-invoker-iam-check`` opens it instead, unless the state also says
  ``"require_invoker_iam": true`` (constraint run.managed.requireInvokerIam).
  ``run services get-iam-policy`` shows who may invoke the service. A redeploy resets CPU
  throttling (the stand-in assumes the worst: that a function deploy rewrites the Cloud
  Run revision's settings).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gcloud_source import uploaded_files
from standin_state import State, ToolError, finish_with, load_state, log_call, save_state

Resource = dict[str, Any]

BILLED_APIS = frozenset(
    {
        "cloudfunctions.googleapis.com",
        "run.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
        "secretmanager.googleapis.com",
        "cloudscheduler.googleapis.com",
    }
)
KNOWN_APIS = BILLED_APIS | {
    "sheets.googleapis.com",
    "iam.googleapis.com",
    "drive.googleapis.com",
    "firestore.googleapis.com",
}
API_TITLES = {
    "cloudfunctions.googleapis.com": "Cloud Functions API",
    "run.googleapis.com": "Cloud Run Admin API",
    "secretmanager.googleapis.com": "Secret Manager API",
    "cloudscheduler.googleapis.com": "Cloud Scheduler API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "firestore.googleapis.com": "Cloud Firestore API",
}
GLOBAL_VALUED = frozenset({"project", "format", "flatten", "filter", "verbosity", "account"})
GLOBAL_FLAGS = frozenset({"quiet"})


@dataclass
class Call:
    """One parsed invocation: the command path, its positionals and its flags."""

    command: tuple[str, ...]
    positionals: list[str]
    options: dict[str, str | bool]
    stdin: Callable[[], str]

    @property
    def label(self) -> str:
        return "gcloud." + ".".join(self.command)

    def value(self, name: str) -> str | None:
        found = self.options.get(name)
        return found if isinstance(found, str) else None

    def require(self, name: str) -> str:
        found = self.value(name)
        if found is None:
            raise ToolError(
                f"ERROR: ({self.label}) argument --{name}: Must be specified.\n"
                f"Usage: gcloud {' '.join(self.command)} [optional flags]",
                status=2,
            )
        return found

    def positional(self) -> str:
        if len(self.positionals) != 1:
            raise ToolError(f"ERROR: ({self.label}) expected exactly one name", status=2)
        return self.positionals[0]

    def fail(self, message: str) -> ToolError:
        return ToolError(f"ERROR: ({self.label}) {message}")


Handler = Callable[[Call, Resource], "Output"]


@dataclass(frozen=True)
class Output:
    """What a handler answers: resources for stdout, a note for stderr, and maybe a failure.

    ``error`` is a failure that comes after a change was made (the change is kept), as when
    gcloud deploys a function and then cannot grant access to it.
    """

    resources: list[Resource] = field(default_factory=list)
    raw: str | None = None
    note: str = ""
    error: ToolError | None = None


@dataclass(frozen=True)
class Spec:
    """How a command is called: its flags, the API it needs, and what it does."""

    handler: Handler
    valued: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    api: str | None = None
    project_positional: bool = False  # `gcloud projects ... PROJECT_ID` names it this way


# ---------------------------------------------------------------- argument parsing


def parse(argv: list[str], specs: dict[tuple[str, ...], Spec]) -> tuple[Call, Spec]:
    words = [word for word in argv if not word.startswith("-")]
    command: tuple[str, ...] | None = None
    for length in range(len(words), 0, -1):
        if tuple(words[:length]) in specs:
            command = tuple(words[:length])
            break
    if command is None:
        choice = words[0] if words else ""
        raise ToolError(f"ERROR: (gcloud) Invalid choice: '{choice}'.", status=2)
    spec = specs[command]
    label = "gcloud." + ".".join(command)
    positionals: list[str] = []
    options: dict[str, str | bool] = {}
    rest = list(argv)
    for word in command:  # drop the command words, in order, leaving everything else
        rest.remove(word)
    valued = spec.valued | GLOBAL_VALUED
    flags = spec.flags | GLOBAL_FLAGS
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if word == "-q":
            word = "--quiet"
        if not word.startswith("--"):
            positionals.append(word)
            continue
        name, has_value, value = word[2:].partition("=")
        if name in valued:
            if not has_value:
                if index >= len(rest):
                    raise ToolError(f"ERROR: ({label}) argument --{name}: expected one argument", 2)
                value = rest[index]
                index += 1
            options[name] = value
        elif name in flags and not has_value:
            options[name] = True
        elif name.startswith("no-") and name[3:] in flags and not has_value:
            options[name[3:]] = False
        else:
            raise ToolError(f"ERROR: ({label}) unrecognized arguments: {word}", status=2)
    return Call(command, positionals, options, stdin=sys.stdin.read), spec


# ---------------------------------------------------------------- output formatting


def dotted(resource: Any, path: str) -> Any:
    current = resource
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def flatten(resources: list[Resource], spec: str | None) -> list[Resource]:
    """gcloud's --flatten=a[].b: one record per element of the list at a (then at a.b)."""
    if not spec:
        return resources
    match = re.fullmatch(r"(\w+)\[\](?:\.(\w+))?", spec)
    if not match:
        raise ToolError(f"ERROR: (gcloud) stand-in cannot flatten {spec!r}", status=2)
    outer, inner = match.group(1), match.group(2)
    flat: list[Resource] = []
    for resource in resources:
        for item in resource.get(outer) or []:
            if inner is None:
                flat.append({**resource, outer: item})
                continue
            for value in item.get(inner) or []:
                flat.append({**resource, outer: {**item, inner: value}})
    return flat


def render_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(render_value(item) for item in value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):  # as gcloud's value printer does: key=value;key=value
        return ";".join(f"{key}={value[key]}" for key in sorted(value))
    return str(value)


def render(resources: list[Resource], fmt: str | None) -> str:
    if fmt == "none":
        return ""
    if fmt is None or fmt in {"yaml", "default"}:
        return "".join(json.dumps(resource, indent=2) + "\n" for resource in resources)
    if fmt == "json":
        single: Any = resources[0] if len(resources) == 1 else resources
        return json.dumps(single, indent=2) + "\n"
    match = re.fullmatch(r"value\((.*)\)", fmt)
    if not match:
        raise ToolError(f"ERROR: (gcloud) stand-in cannot format {fmt!r}", status=2)
    keys = [key.strip() for key in match.group(1).split(",")]
    lines = [
        "\t".join(render_value(dotted(resource, key)) for key in keys) for resource in resources
    ]
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- shared helpers


def project_of(call: Call, state: State) -> tuple[str, Resource]:
    name = call.value("project")
    if not name:
        raise call.fail(
            "The required property [project] is not currently set.\n"
            "It can be set on a per-command basis by re-running your command with the "
            "[--project] flag."
        )
    project = state.setdefault("projects", {}).get(name)
    if project is None:
        raise call.fail(
            f"PERMISSION_DENIED: The caller does not have permission, or project [{name}] "
            "does not exist."
        )
    return name, project


def require_api(call: Call, name: str, project: Resource, api: str | None) -> None:
    if api is None or api in project.get("enabled_apis", []):
        return
    title = API_TITLES.get(api, api)
    number = project.get("number", "0")
    raise call.fail(
        f"PERMISSION_DENIED: {title} has not been used in project {number} before or it is "
        f"disabled. Enable it by visiting https://console.developers.google.com/apis/api/{api}"
        f"/overview?project={number} then retry.\n- '@type': type.googleapis.com/"
        f"google.rpc.ErrorInfo\n  reason: SERVICE_DISABLED\n  project: {name}"
    )


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """KEY=VALUE lists as gcloud reads them, with the ^DELIM^ escape of `gcloud topic escaping`."""
    delimiter = ","
    match = re.match(r"\^(.+?)\^", text)
    if match:
        delimiter = match.group(1)
        text = text[match.end() :]
    pairs = []
    for item in text.split(delimiter):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals:
            raise ToolError(f"ERROR: (gcloud) Bad syntax for dict arg: [{item}]", status=2)
        pairs.append((key, value))
    return pairs


def read_data(call: Call) -> tuple[str, str]:
    """The secret payload of --data-file, and where it came from ("stdin" or "file")."""
    source = call.require("data-file")
    if source == "-":
        return call.stdin(), "stdin"
    path = Path(source)
    if not path.is_file():
        raise call.fail(f"Unable to read file [{source}]")
    return path.read_text(encoding="utf-8"), "file"


def service_account_exists(project: Resource, email: str) -> bool:
    return email in project.get("service_accounts", {})


def duration_seconds(call: Call, text: str, name: str) -> int:
    match = re.fullmatch(r"(\d+)(s|m)?", text)
    if not match:
        raise ToolError(f"ERROR: ({call.label}) argument --{name}: invalid duration [{text}]", 2)
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


# ---------------------------------------------------------------- services


def services_list(call: Call, project: Resource) -> Output:
    if not call.options.get("enabled"):
        return Output([])
    enabled = project.get("enabled_apis", [])
    return Output([{"config": {"name": api}, "state": "ENABLED"} for api in sorted(enabled)])


def services_enable(call: Call, project: Resource) -> Output:
    if not call.positionals:
        raise ToolError(f"ERROR: ({call.label}) argument SERVICE: Must be specified.", 2)
    unknown = [api for api in call.positionals if api not in KNOWN_APIS]
    if unknown:
        raise call.fail(
            f"PERMISSION_DENIED: Not found or permission denied for service(s): {unknown}"
        )
    billed = [api for api in call.positionals if api in BILLED_APIS]
    if billed and not project.get("billing", False):
        raise call.fail(
            f"FAILED_PRECONDITION: Billing account for project '{project.get('number')}' is not "
            f"found. Billing must be enabled for activation of service(s) '{','.join(billed)}' "
            "to proceed."
        )
    enabled = project.setdefault("enabled_apis", [])
    for api in call.positionals:
        if api not in enabled:
            enabled.append(api)
    return Output(note="Operation finished successfully.")


# ---------------------------------------------------------------- IAM service accounts


def accounts_describe(call: Call, project: Resource) -> Output:
    email = call.positional()
    if not service_account_exists(project, email):
        raise call.fail("NOT_FOUND: Unknown service account")
    return Output([project["service_accounts"][email]])


def accounts_create(call: Call, project: Resource) -> Output:
    account_id = call.positional()
    name = call.require("project")
    if not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account_id):
        raise call.fail(
            f"INVALID_ARGUMENT: argument NAME: Bad value [{account_id}]: Service account name "
            "must be between 6 and 30 characters"
        )
    email = f"{account_id}@{name}.iam.gserviceaccount.com"
    if service_account_exists(project, email):
        raise call.fail(
            f"Resource in projects [{name}] is the subject of a conflict: Service account "
            f"{account_id} already exists within project projects/{name}."
        )
    account = {
        "email": email,
        "displayName": call.value("display-name") or "",
        "description": call.value("description") or "",
        "projectId": name,
    }
    project.setdefault("service_accounts", {})[email] = account
    return Output(note=f"Created service account [{account_id}].")


# ---------------------------------------------------------------- project IAM policy


def check_member(call: Call, project: Resource, member: str) -> None:
    """Refuse a malformed member, or a service account of this project that does not exist."""
    kind, _, identity = member.partition(":")
    if kind not in {"serviceAccount", "user", "group", "domain"} or not identity:
        raise call.fail(f"INVALID_ARGUMENT: Invalid member [{member}]")
    project_account = identity.endswith(".iam.gserviceaccount.com")
    if (
        kind == "serviceAccount"
        and project_account
        and not service_account_exists(project, identity)
    ):
        raise call.fail(f"INVALID_ARGUMENT: Service account {identity} does not exist.")


def roles_of(project: Resource, member: str) -> set[str]:
    """The project roles granted to ``member``."""
    return {
        binding["role"] for binding in project.get("iam_policy", []) if member in binding["members"]
    }


def projects_get_iam_policy(call: Call, project: Resource) -> Output:
    return Output(
        [{"bindings": project.get("iam_policy", []), "etag": "BwYAAAAAAAA=", "version": 1}]
    )


def projects_add_binding(call: Call, project: Resource) -> Output:
    name = call.require("project")
    member = call.require("member")
    role = call.require("role")
    condition = call.value("condition")
    if condition is not None and condition != "None":
        raise call.fail("stand-in: conditional bindings are not modelled")
    check_member(call, project, member)
    if not role.startswith("roles/"):
        raise call.fail(f"INVALID_ARGUMENT: Role {role} is not supported for this resource.")
    policy = project.setdefault("iam_policy", [])
    binding = next((item for item in policy if item["role"] == role), None)
    if binding is None:
        binding = {"role": role, "members": []}
        policy.append(binding)
    if member not in binding["members"]:
        binding["members"].append(member)
    return Output(
        [{"bindings": policy, "etag": "BwYAAAAAAAB=", "version": 1}],
        note=f"Updated IAM policy for project [{name}].",
    )


# ---------------------------------------------------------------- Secret Manager


def secret_or_missing(call: Call, project: Resource, secret_id: str) -> Resource:
    secret = project.get("secrets", {}).get(secret_id)
    if secret is None:
        raise call.fail(
            f"NOT_FOUND: Secret [projects/{project.get('number')}/secrets/{secret_id}] not found "
            "or has no versions."
        )
    return dict(secret)


def public_secret(secret: Resource) -> Resource:
    return {key: value for key, value in secret.items() if key not in {"versions", "policy"}}


def secrets_describe(call: Call, project: Resource) -> Output:
    return Output([public_secret(secret_or_missing(call, project, call.positional()))])


def add_version(secret: Resource, data: str, source: str) -> int:
    versions = secret.setdefault("versions", [])
    number = len(versions) + 1
    versions.append({"version": number, "data": data, "data_source": source, "state": "ENABLED"})
    return number


def secrets_create(call: Call, project: Resource) -> Output:
    secret_id = call.positional()
    name = call.require("project")
    secrets = project.setdefault("secrets", {})
    if secret_id in secrets:
        raise call.fail(
            f"ALREADY_EXISTS: Secret [projects/{project.get('number')}/secrets/{secret_id}] "
            "already exists."
        )
    policy = call.value("replication-policy") or "automatic"
    if policy not in {"automatic", "user-managed"}:
        raise call.fail(f"INVALID_ARGUMENT: unknown replication policy [{policy}]")
    if policy == "user-managed" and not call.value("locations"):
        raise call.fail(
            "If --replication-policy is user-managed then --locations must also be provided"
        )
    secret: Resource = {"name": f"projects/{name}/secrets/{secret_id}", "replication": policy}
    note = f"Created secret [{secret_id}]."
    if "data-file" in call.options:
        data, source = read_data(call)
        add_version(secret, data, source)
        note = f"Created version [1] of the secret [{secret_id}]."
    secrets[secret_id] = secret
    return Output(note=note)


def secrets_versions_add(call: Call, project: Resource) -> Output:
    secret_id = call.positional()
    secret = secret_or_missing(call, project, secret_id)
    data, source = read_data(call)
    number = add_version(secret, data, source)
    project["secrets"][secret_id] = secret
    return Output(note=f"Created version [{number}] of the secret [{secret_id}].")


def secrets_versions_access(call: Call, project: Resource) -> Output:
    version = call.positional()
    secret_id = call.require("secret")
    secret = secret_or_missing(call, project, secret_id)
    if secret.get("deny_access"):  # set by a test: the caller lacks secretmanager.versions.access
        raise call.fail(
            "PERMISSION_DENIED: Permission 'secretmanager.versions.access' denied for resource "
            f"'projects/{project.get('number')}/secrets/{secret_id}/versions/{version}' (or it "
            "may not exist)."
        )
    enabled = [item for item in secret.get("versions", []) if item["state"] == "ENABLED"]
    chosen = (
        enabled[-1:]
        if version == "latest"
        else [v for v in enabled if str(v["version"]) == version]
    )
    if not chosen:
        raise call.fail(
            f"NOT_FOUND: Secret Version [projects/{project.get('number')}/secrets/{secret_id}"
            f"/versions/{version}] not found."
        )
    return Output(raw=chosen[0]["data"])


def secrets_get_iam_policy(call: Call, project: Resource) -> Output:
    secret = secret_or_missing(call, project, call.positional())
    return Output([{"bindings": secret.get("policy", []), "etag": "BwYAAAAAAAA="}])


def secrets_add_binding(call: Call, project: Resource) -> Output:
    secret_id = call.positional()
    secret = secret_or_missing(call, project, secret_id)
    member = call.require("member")
    role = call.require("role")
    check_member(call, project, member)
    if not role.startswith("roles/"):
        raise call.fail(f"INVALID_ARGUMENT: Role {role} is not supported for this resource.")
    policy = secret.setdefault("policy", [])
    binding = next((item for item in policy if item["role"] == role), None)
    if binding is None:
        binding = {"role": role, "members": []}
        policy.append(binding)
    if member not in binding["members"]:
        binding["members"].append(member)
    project["secrets"][secret_id] = secret
    return Output(
        [{"bindings": policy, "etag": "BwYAAAAAAAB="}],
        note=f"Updated IAM policy for secret [{secret_id}].",
    )


def can_read_secret(project: Resource, secret_id: str, email: str) -> bool:
    secret = project.get("secrets", {}).get(secret_id, {})
    readers = {"roles/secretmanager.secretAccessor", "roles/owner"}
    return any(
        binding["role"] in readers and f"serviceAccount:{email}" in binding["members"]
        for binding in secret.get("policy", [])
    )


# ---------------------------------------------------------------- Cloud Functions (gen2)


def function_key(call: Call) -> str:
    return f"{call.require('region')}/{call.positional()}"


def functions_describe(call: Call, project: Resource) -> Output:
    function = project.get("functions", {}).get(function_key(call))
    if function is None:
        name = call.require("project")
        raise call.fail(
            f"NOT_FOUND: Resource 'projects/{name}/locations/{call.require('region')}/functions/"
            f"{call.positional()}' was not found"
        )
    return Output([function])


def run_url(project_name: str, region: str, function_name: str) -> str:
    digest = hashlib.sha256(f"{project_name}/{region}".encode()).hexdigest()[:10]
    region_code = "".join(part[0] for part in region.split("-")[:2])
    return f"https://{function_name}-{digest}-{region_code}.a.run.app"


def parse_memory(call: Call, text: str) -> str:
    if not re.fullmatch(r"\d+(Mi|Gi|M|G|MB|GB)", text):
        raise ToolError(f"ERROR: ({call.label}) argument --memory: invalid memory [{text}]", 2)
    return text


def parse_int(call: Call, name: str, low: int, high: int) -> int | None:
    text = call.value(name)
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ToolError(
            f"ERROR: ({call.label}) argument --{name}: Value must be between {low} and {high}", 2
        )
    return int(text)


def check_source(call: Call, source: str, entry_point: str) -> list[str]:
    directory = Path(source)
    main = directory / "main.py"
    if not main.is_file():
        raise call.fail(
            "OperationError: code=3, message=Build failed: missing main.py and GOOGLE_FUNCTION_"
            "SOURCE not specified. Either create the function in main.py or specify "
            "GOOGLE_FUNCTION_SOURCE to point to the file that contains the function"
        )
    # functions-framework takes the module's attribute: defined there or imported into it.
    name = re.escape(entry_point)
    defines = rf"^\s*(async\s+)?def\s+{name}\b|^from\s+\S+\s+import\s+(\(?[\w\s,]*\b)?{name}\b"
    if not re.search(defines, main.read_text(), re.M):
        raise call.fail(
            "OperationError: code=3, message=Could not create or update Cloud Run service: "
            f"Container Healthcheck failed. Function '{entry_point}' is not defined in the "
            "provided module."
        )
    return uploaded_files(directory)


# What a build account needs, by role: write the build's logs, push the image to Artifact
# Registry, read the uploaded source (Cloud Build's and Cloud Run's documented roles).
BUILD_NEEDS = {
    "roles/cloudbuild.builds.builder": {"logs", "images", "source"},
    "roles/run.builder": {"logs", "images", "source"},
    "roles/editor": {"logs", "images", "source"},
    "roles/owner": {"logs", "images", "source"},
    "roles/logging.logWriter": {"logs"},
    "roles/artifactregistry.writer": {"images"},
    "roles/artifactregistry.createOnPushWriter": {"images"},
    "roles/storage.objectViewer": {"source"},
    "roles/storage.objectAdmin": {"source"},
}


def default_compute_account(project: Resource) -> str:
    """The Compute Engine default service account: the default for runtime and builds."""
    return f"{project.get('number')}-compute@developer.gserviceaccount.com"


def build_account(call: Call, project: Resource, project_name: str, build: Resource) -> str:
    """The account the build runs as: the flag's, the one kept from before, or the default."""
    given = call.value("build-service-account")
    if given is not None:
        match = re.fullmatch(r"projects/([^/]+)/serviceAccounts/([^/]+@[^/]+)", given)
        if not match:
            raise call.fail(
                f"INVALID_ARGUMENT: Invalid build service account [{given}]: it must be of the "
                "format projects/{project_id}/serviceAccounts/{email}."
            )
        if match.group(1) != project_name or not service_account_exists(project, match.group(2)):
            raise call.fail(f"INVALID_ARGUMENT: Service account {match.group(2)} does not exist.")
        build["serviceAccount"] = given
    default = f"projects/{project_name}/serviceAccounts/{default_compute_account(project)}"
    return str(build.get("serviceAccount") or default)


def build_refusal(call: Call, project: Resource, account: str, region: str) -> ToolError | None:
    """Cloud Build's refusal when ``account`` lacks a permission the build uses, else None."""
    email = account.rsplit("/", 1)[-1]
    can: set[str] = set()
    for role in roles_of(project, f"serviceAccount:{email}"):
        can |= BUILD_NEEDS.get(role, set())
    if {"logs", "images", "source"} <= can:
        return None
    number = project.get("number")
    logs = (
        f"https://console.cloud.google.com/cloud-build/builds;region={region}/"
        f"0f6e3c1a-build?project={number}"
    )
    if "logs" not in can:
        return call.fail(
            f"OperationError: code=3, message=Build failed: The service account running this "
            f"build {account} does not have permission to write logs to Cloud Logging. To fix "
            "this, grant the Logs Writer (roles/logging.logWriter) role to the service account."
        )
    return call.fail(
        "OperationError: code=13, message=Build failed with status: FAILURE. Could not build "
        "the function due to a missing permission on the build service account. If you didn't "
        "revoke that permission explicitly, this could be caused by a change in the "
        "organization policies. Please refer to the following documentation for more details "
        "and resolution: https://cloud.google.com/functions/docs/troubleshooting"
        f"#build-service-account\n\nYou can also view the logs at {logs}."
    )


# gcloud's words when the organisation policy "domain restricted sharing"
# (constraints/iam.allowedPolicyMemberDomains) refuses the allUsers invoker binding.
DOMAIN_RESTRICTED = (
    "ResponseError: status=[400], code=[Ok], message=[One or more users named in the policy "
    "do not belong to a permitted customer, perhaps due to an organization policy.]"
)
# Older gcloud caught that HttpError and only warned, exiting 0 with the function private:
# lib/googlecloudsdk/command_lib/functions/v1/deploy/command.py, TryToSetInvokerPermission
# (`log.warning('Setting IAM policy failed, try `%s`' % _CreateBindPolicyCommand(...))`,
# google-cloud-sdk-unofficial/google-cloud-sdk), as `gcloud run deploy` still does
# (command_lib/run/serverless_operations.py: CompleteStageWithWarning). Today's gen2 path
# (command_lib/functions/v2/deploy/command.py, _SetInvokerPermissions →
# run_util.AddOrRemoveInvokerBinding) lets the error through: exit 1.
REFUSAL_AS_WARNING = (
    "WARNING: Setting IAM policy failed, try `gcloud functions add-iam-policy-binding {name} "
    "--region={region} --member=allUsers --role=roles/cloudfunctions.invoker`"
)
# An organisation may also require the invoker check (constraints/run.managed.requireInvokerIam,
# https://cloud.google.com/run/docs/securing/managing-access#disable-invoker-check): then
# --no-invoker-iam-check is refused too and nothing can make the function public. (The
# refusal's exact wording is not documented; these words are the stand-in's.)
INVOKER_IAM_REQUIRED = (
    "FAILED_PRECONDITION: Violation of organization policy constraint "
    "'constraints/run.managed.requireInvokerIam': the Invoker IAM check cannot be disabled "
    "for services in this project."
)


def secret_refs(call: Call, project_name: str, text: str) -> list[Resource]:
    refs = []
    for key, reference in parse_pairs(text):
        secret, colon, version = reference.partition(":")
        if not colon or not version:
            raise ToolError(f"ERROR: ({call.label}) --set-secrets: invalid secret [{reference}]", 2)
        refs.append({"key": key, "secret": secret, "version": version, "projectId": project_name})
    return refs


def functions_deploy(call: Call, project: Resource) -> Output:
    name = call.positional()
    project_name = call.require("project")
    region = call.require("region")
    functions = project.setdefault("functions", {})
    existing = functions.get(function_key(call))
    creating = existing is None
    for api in (
        "run.googleapis.com",
        "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com",
    ):
        require_api(call, project_name, project, api)
    if creating:
        if not call.options.get("trigger-http"):
            raise call.fail("You must specify a trigger when deploying a new function.")
        call.require("runtime")
    # A copy: a refused build must leave an existing function as it was.
    function: Resource = (
        copy.deepcopy(existing)
        if existing
        else {
            "name": f"projects/{project_name}/locations/{region}/functions/{name}",
            "environment": "GEN_2",
            "url": f"https://{region}-{project_name}.cloudfunctions.net/{name}",
            "buildConfig": {},
            "serviceConfig": {
                "service": f"projects/{project_name}/locations/{region}/services/{name}",
                "uri": run_url(project_name, region, name),
                "timeoutSeconds": 60,
                "availableMemory": "256M",
                "availableCpu": "0.1666",
                "maxInstanceRequestConcurrency": 1,
                "minInstanceCount": 0,
                "maxInstanceCount": 100,
                "environmentVariables": {},
                "secretEnvironmentVariables": [],
                "serviceAccountEmail": default_compute_account(project),
                "revisionCount": 0,
            },
            "invokers": [],
            "deployCount": 0,
        }
    )
    build = function["buildConfig"]
    service = function["serviceConfig"]
    runtime = call.value("runtime")
    if runtime is not None:
        if not re.fullmatch(r"python3(9|10|11|12|13)|nodejs\d\d|go1\d\d", runtime):
            raise call.fail(f"INVALID_ARGUMENT: Runtime {runtime!r} is not supported.")
        build["runtime"] = runtime
    build["entryPoint"] = call.value("entry-point") or build.get("entryPoint") or name
    source = call.value("source") or build.get("source") or "."
    build["source"] = source
    build["sourceFiles"] = check_source(call, source, build["entryPoint"])
    account = build_account(call, project, project_name, build)
    refusal = build_refusal(call, project, account, region)
    if refusal is not None:
        if creating:  # Cloud Functions keeps the new function, failed and without a URL
            function["state"] = "FAILED"
            function["serviceConfig"].pop("uri")
            functions[function_key(call)] = function
        return Output(error=refusal)

    if (timeout := call.value("timeout")) is not None:
        seconds = duration_seconds(call, timeout, "timeout")
        if not 1 <= seconds <= 3600:
            raise call.fail(
                "INVALID_ARGUMENT: timeout must be between 1s and 3600s for HTTP functions"
            )
        service["timeoutSeconds"] = seconds
    if (memory := call.value("memory")) is not None:
        service["availableMemory"] = parse_memory(call, memory)
    if (cpu := call.value("cpu")) is not None:
        if not re.fullmatch(r"\d+(\.\d+)?", cpu):
            raise ToolError(f"ERROR: ({call.label}) argument --cpu: invalid value [{cpu}]", 2)
        service["availableCpu"] = cpu
    for flag, key, low, high in (
        ("concurrency", "maxInstanceRequestConcurrency", 1, 1000),
        ("min-instances", "minInstanceCount", 0, 1000),
        ("max-instances", "maxInstanceCount", 1, 1000),
    ):
        number = parse_int(call, flag, low, high)
        if number is not None:
            service[key] = number
    if service["maxInstanceRequestConcurrency"] > 1 and float(service["availableCpu"]) < 1:
        raise call.fail(
            "INVALID_ARGUMENT: Invalid value for concurrency: Total CPU < 1 is not supported with "
            "concurrency > 1."
        )
    if (account := call.value("service-account")) is not None:
        if not service_account_exists(project, account):
            raise call.fail(f"INVALID_ARGUMENT: Service account {account} does not exist.")
        service["serviceAccountEmail"] = account

    if (secrets := call.value("set-secrets")) is not None:
        service["secretEnvironmentVariables"] = secret_refs(call, project_name, secrets)
    for ref in service["secretEnvironmentVariables"]:
        if ref["secret"] not in project.get("secrets", {}):
            raise call.fail(
                f"NOT_FOUND: Secret projects/{project_name}/secrets/{ref['secret']} was not found"
            )
        if not can_read_secret(project, ref["secret"], service["serviceAccountEmail"]):
            raise call.fail(
                f"OperationError: code=7, message=Could not create or update Cloud Run service "
                f"{name}, Permission denied on secret: projects/{project.get('number')}/secrets/"
                f"{ref['secret']}/versions/{ref['version']} for Revision service account "
                f"{service['serviceAccountEmail']}. The service account used must be granted the "
                "'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the "
                "secret, project or higher level."
            )
    environment = service["environmentVariables"]
    if (replacement := call.value("set-env-vars")) is not None:
        environment.clear()
        environment.update(parse_pairs(replacement))
    if (update := call.value("update-env-vars")) is not None:
        environment.update(parse_pairs(update))
    clash = set(environment) & {ref["key"] for ref in service["secretEnvironmentVariables"]}
    if clash:
        raise call.fail(
            f"Cannot update environment variable [{sorted(clash)[0]}] to the given type because "
            "it has already been set with a different type."
        )

    function["state"] = "ACTIVE"
    function["deployCount"] += 1
    service.setdefault("uri", run_url(project_name, region, name))
    service["revisionCount"] += 1
    service["revision"] = f"{name}-{service['revisionCount']:05d}-abc"
    service["cpuThrottling"] = True  # the assumption stated in the module docstring
    functions[function_key(call)] = function
    verb = "Creating" if creating else "Updating"
    note = f"{verb} function (may take a while)...done."
    # As gcloud does, access is granted once the function is deployed: a refusal leaves the
    # function deployed but not public.
    if "allow-unauthenticated" in call.options:
        public = bool(call.options["allow-unauthenticated"])
        if public and project.get("domain_restricted_sharing"):
            if project.get("gcloud_refusal", "error") == "warning":
                warning = REFUSAL_AS_WARNING.format(name=name, region=region)
                return Output([function], note=f"{note}\n{warning}")
            return Output(note=note, error=call.fail(DOMAIN_RESTRICTED))
        function["invokers"] = ["allUsers"] if public else []
    return Output([function], note=note)


def find_service(call: Call, project: Resource) -> Resource:
    """The serviceConfig of the function whose Cloud Run service is named by the call."""
    service_name = call.positional()
    region = call.require("region")
    for key, function in project.get("functions", {}).items():
        service: Resource = function["serviceConfig"]
        if key.startswith(f"{region}/") and service["service"].rsplit("/", 1)[-1] == service_name:
            return service
    raise call.fail(f"Service [{service_name}] could not be found.")


def run_services_describe(call: Call, project: Resource) -> Output:
    """The Cloud Run service as gcloud shows it (Knative shape, settings as annotations)."""
    service = find_service(call, project)
    annotations = {"run.googleapis.com/ingress": "all"}
    if service.get("invokerIamDisabled"):
        annotations["run.googleapis.com/invoker-iam-disabled"] = "true"
    template = {"autoscaling.knative.dev/maxScale": str(service["maxInstanceCount"])}
    if service.get("cpuThrottling") is False:
        template["run.googleapis.com/cpu-throttling"] = "false"
    return Output(
        [
            {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "metadata": {"name": call.positional(), "annotations": annotations},
                "spec": {"template": {"metadata": {"annotations": template}}},
                "status": {"url": service.get("uri", "")},
            }
        ]
    )


def run_services_get_iam_policy(call: Call, project: Resource) -> Output:
    """The service's IAM policy: who holds roles/run.invoker (allUsers once granted)."""
    find_service(call, project)
    function = next(
        item
        for item in project.get("functions", {}).values()
        if item["serviceConfig"]["service"].rsplit("/", 1)[-1] == call.positional()
    )
    invokers = list(function.get("invokers", []))
    bindings = [{"role": "roles/run.invoker", "members": invokers}] if invokers else []
    return Output([{"bindings": bindings, "etag": "BwYAAAAAAAA=", "version": 1}])


def run_services_update(call: Call, project: Resource) -> Output:
    service_name = call.positional()
    service = find_service(call, project)
    if (update := call.value("update-env-vars")) is not None:
        service["environmentVariables"].update(parse_pairs(update))
    if "cpu-throttling" in call.options:
        service["cpuThrottling"] = bool(call.options["cpu-throttling"])
    if "invoker-iam-check" in call.options:
        if not call.options["invoker-iam-check"] and project.get("require_invoker_iam"):
            raise call.fail(INVOKER_IAM_REQUIRED)
        service["invokerIamDisabled"] = not call.options["invoker-iam-check"]
    service["revisionCount"] += 1
    service["revision"] = f"{service_name}-{service['revisionCount']:05d}-run"
    return Output(
        note=f"Service [{service_name}] revision [{service['revision']}] is serving 100 percent "
        "of traffic."
    )


# ---------------------------------------------------------------- Firestore

DATABASE_TYPES = {"firestore-native": "FIRESTORE_NATIVE", "datastore-mode": "DATASTORE_MODE"}


def database_id(call: Call) -> str:
    return call.value("database") or "(default)"


def database_or_missing(call: Call, project: Resource) -> Resource:
    database: Resource | None = project.get("firestore", {}).get(database_id(call))
    if database is None:
        name = call.require("project")
        raise call.fail(
            f"NOT_FOUND: The database {database_id(call)} does not exist for project {name} "
            f"Please visit https://console.cloud.google.com/datastore/setup?project={name} to "
            "add a Cloud Datastore or Cloud Firestore database."
        )
    return database


def public_database(database: Resource) -> Resource:
    return {key: value for key, value in database.items() if key != "ttl"}


def databases_describe(call: Call, project: Resource) -> Output:
    return Output([public_database(database_or_missing(call, project))])


def databases_create(call: Call, project: Resource) -> Output:
    name = call.require("project")
    location = call.require("location")
    database = database_id(call)
    kind = call.value("type") or "firestore-native"
    if kind not in DATABASE_TYPES:
        raise ToolError(
            f"ERROR: ({call.label}) argument --type: Invalid choice: '{kind}'.", status=2
        )
    if database != "(default)" and not re.fullmatch(r"[a-z][a-z0-9-]{2,61}[a-z0-9]", database):
        raise call.fail(f"INVALID_ARGUMENT: Invalid database id: {database}")
    if not re.fullmatch(r"[a-z]+(-[a-z]+)?[0-9]+", location):
        raise call.fail(f"INVALID_ARGUMENT: Invalid locationId: {location}")
    databases = project.setdefault("firestore", {})
    if database in databases:
        raise call.fail("ALREADY_EXISTS: Database already exists. Please use another database_id")
    created: Resource = {
        "name": f"projects/{name}/databases/{database}",
        "type": DATABASE_TYPES[kind],
        "locationId": location,
        "ttl": {},
    }
    databases[database] = created
    return Output([public_database(created)], note=f"Created database [{database}].")


def ttl_fields(database: Resource, groups: list[str]) -> list[Resource]:
    """The TTL fields of ``groups`` in ``database``, as Firestore's Field resources."""
    fields = []
    for group in groups:
        if group in database["ttl"]:
            ttl = database["ttl"][group]
            name = f"{database['name']}/collectionGroups/{group}/fields/{ttl['field']}"
            fields.append({"name": name, "ttlConfig": {"state": ttl["state"]}})
    return fields


def ttls_list(call: Call, project: Resource) -> Output:
    database = database_or_missing(call, project)
    group = call.value("collection-group")
    groups = [group] if group else sorted(database["ttl"])
    return Output(ttl_fields(database, groups))


def ttls_update(call: Call, project: Resource) -> Output:
    field_name = call.positional()
    group = call.require("collection-group")
    database = database_or_missing(call, project)
    enable, disable = call.options.get("enable-ttl"), call.options.get("disable-ttl")
    if bool(enable) == bool(disable):
        raise ToolError(
            f"ERROR: ({call.label}) Exactly one of (--disable-ttl | --enable-ttl) must be "
            "specified.",
            status=2,
        )
    current = database["ttl"].get(group)
    if disable:
        database["ttl"].pop(group, None)
    elif current is not None and current["field"] != field_name:
        raise call.fail(
            f"FAILED_PRECONDITION: Collection group {group} already has a TTL field: "
            f"{current['field']}. Only one field can be the TTL field for a collection group."
        )
    else:
        state = "CREATING" if call.options.get("async") else "ACTIVE"
        database["ttl"][group] = {"field": field_name, "state": state}
    if call.options.get("async"):
        return Output(
            note=f"Request issued for: [{field_name}]\nCheck operation "
            f"[{database['name']}/operations/ttl-{group}] for status."
        )
    return Output(ttl_fields(database, [group]), note=f"Updated field [{field_name}].")


# ---------------------------------------------------------------- Cloud Scheduler


def job_key(call: Call) -> str:
    return f"{call.require('location')}/{call.positional()}"


def jobs_describe(call: Call, project: Resource) -> Output:
    job = project.get("scheduler_jobs", {}).get(job_key(call))
    if job is None:
        raise call.fail("NOT_FOUND: Job not found.")
    return Output([job])


def apply_job_flags(call: Call, project: Resource, job: Resource) -> None:
    target = job.setdefault("httpTarget", {"httpMethod": "POST", "headers": {}})
    if (schedule := call.value("schedule")) is not None:
        if len(schedule.split()) != 5:
            raise call.fail(f"INVALID_ARGUMENT: Schedule or time zone is invalid. [{schedule}]")
        job["schedule"] = schedule
    if (zone := call.value("time-zone")) is not None:
        job["timeZone"] = zone
    if (uri := call.value("uri")) is not None:
        if not re.match(r"https?://", uri):
            raise call.fail(f"INVALID_ARGUMENT: Invalid URI [{uri}]")
        target["uri"] = uri
    if (method := call.value("http-method")) is not None:
        target["httpMethod"] = method.upper()
    for flag in ("headers", "update-headers"):
        if (headers := call.value(flag)) is not None:
            target["headers"].update(parse_pairs(headers))
    if (body := call.value("message-body")) is not None:
        target["body"] = base64.b64encode(body.encode()).decode()
    if (deadline := call.value("attempt-deadline")) is not None:
        seconds = duration_seconds(call, deadline, "attempt-deadline")
        if not 15 <= seconds <= 1800:
            raise call.fail(
                "INVALID_ARGUMENT: attempt deadline must be between 15s and 1800s for HTTP targets"
            )
        job["attemptDeadline"] = f"{seconds}s"
    email = call.value("oidc-service-account-email")
    audience = call.value("oidc-token-audience")
    if audience is not None and email is None:
        raise ToolError(
            f"ERROR: ({call.label}) argument --oidc-service-account-email: Must be specified.", 2
        )
    if email is not None:
        if not service_account_exists(project, email):
            raise call.fail(f"INVALID_ARGUMENT: Service account {email} does not exist.")
        target["oidcToken"] = {"serviceAccountEmail": email, "audience": audience or target["uri"]}


def jobs_create_http(call: Call, project: Resource) -> Output:
    name = call.require("project")
    jobs = project.setdefault("scheduler_jobs", {})
    key = job_key(call)
    call.require("schedule")
    call.require("uri")
    if key in jobs:
        raise call.fail(
            f"ALREADY_EXISTS: Job projects/{name}/locations/{call.require('location')}/jobs/"
            f"{call.positional()} already exists."
        )
    job: Resource = {
        "name": f"projects/{name}/locations/{call.require('location')}/jobs/{call.positional()}",
        "state": "ENABLED",
        "timeZone": "Etc/UTC",
        "attemptDeadline": "180s",
    }
    apply_job_flags(call, project, job)
    jobs[key] = job
    return Output([job])


def jobs_update_http(call: Call, project: Resource) -> Output:
    jobs = project.get("scheduler_jobs", {})
    job = jobs.get(job_key(call))
    if job is None:
        raise call.fail("NOT_FOUND: Job not found.")
    apply_job_flags(call, project, job)
    return Output([job])


# ---------------------------------------------------------------- the command table

JOB_FLAGS = frozenset(
    {
        "location",
        "schedule",
        "uri",
        "http-method",
        "message-body",
        "oidc-service-account-email",
        "oidc-token-audience",
        "attempt-deadline",
        "time-zone",
        "description",
    }
)
SPECS: dict[tuple[str, ...], Spec] = {
    ("services", "list"): Spec(
        services_list, frozenset({"limit"}), frozenset({"enabled", "available"})
    ),
    ("services", "enable"): Spec(services_enable, flags=frozenset({"async"})),
    ("iam", "service-accounts", "describe"): Spec(accounts_describe, api="iam.googleapis.com"),
    ("iam", "service-accounts", "create"): Spec(
        accounts_create, frozenset({"display-name", "description"}), api="iam.googleapis.com"
    ),
    ("secrets", "describe"): Spec(secrets_describe, api="secretmanager.googleapis.com"),
    ("secrets", "create"): Spec(
        secrets_create,
        frozenset({"data-file", "replication-policy", "locations", "labels"}),
        api="secretmanager.googleapis.com",
    ),
    ("secrets", "versions", "add"): Spec(
        secrets_versions_add, frozenset({"data-file"}), api="secretmanager.googleapis.com"
    ),
    ("secrets", "versions", "access"): Spec(
        secrets_versions_access,
        frozenset({"secret", "out-file"}),
        api="secretmanager.googleapis.com",
    ),
    ("secrets", "get-iam-policy"): Spec(secrets_get_iam_policy, api="secretmanager.googleapis.com"),
    ("secrets", "add-iam-policy-binding"): Spec(
        secrets_add_binding,
        frozenset({"member", "role", "condition"}),
        api="secretmanager.googleapis.com",
    ),
    ("functions", "describe"): Spec(
        functions_describe,
        frozenset({"region"}),
        frozenset({"gen2"}),
        api="cloudfunctions.googleapis.com",
    ),
    ("functions", "deploy"): Spec(
        functions_deploy,
        frozenset(
            {
                "region",
                "runtime",
                "source",
                "entry-point",
                "service-account",
                "timeout",
                "memory",
                "cpu",
                "concurrency",
                "min-instances",
                "max-instances",
                "set-secrets",
                "update-secrets",
                "set-env-vars",
                "update-env-vars",
                "ingress-settings",
                "build-service-account",
            }
        ),
        frozenset({"gen2", "trigger-http", "allow-unauthenticated"}),
        api="cloudfunctions.googleapis.com",
    ),
    ("run", "services", "describe"): Spec(
        run_services_describe, frozenset({"region"}), api="run.googleapis.com"
    ),
    ("run", "services", "get-iam-policy"): Spec(
        run_services_get_iam_policy, frozenset({"region"}), api="run.googleapis.com"
    ),
    ("run", "services", "update"): Spec(
        run_services_update,
        frozenset({"region", "update-env-vars"}),
        frozenset({"cpu-throttling", "invoker-iam-check"}),
        api="run.googleapis.com",
    ),
    ("projects", "get-iam-policy"): Spec(projects_get_iam_policy, project_positional=True),
    ("projects", "add-iam-policy-binding"): Spec(
        projects_add_binding, frozenset({"member", "role", "condition"}), project_positional=True
    ),
    ("firestore", "databases", "describe"): Spec(
        databases_describe, frozenset({"database"}), api="firestore.googleapis.com"
    ),
    ("firestore", "databases", "create"): Spec(
        databases_create,
        frozenset({"database", "location", "type", "edition"}),
        frozenset({"delete-protection", "enable-pitr"}),
        api="firestore.googleapis.com",
    ),
    ("firestore", "fields", "ttls", "list"): Spec(
        ttls_list,
        frozenset({"database", "collection-group", "limit"}),
        api="firestore.googleapis.com",
    ),
    ("firestore", "fields", "ttls", "update"): Spec(
        ttls_update,
        frozenset({"database", "collection-group"}),
        frozenset({"enable-ttl", "disable-ttl", "async"}),
        api="firestore.googleapis.com",
    ),
    ("scheduler", "jobs", "describe"): Spec(
        jobs_describe, frozenset({"location"}), api="cloudscheduler.googleapis.com"
    ),
    ("scheduler", "jobs", "create", "http"): Spec(
        jobs_create_http, JOB_FLAGS | {"headers"}, api="cloudscheduler.googleapis.com"
    ),
    ("scheduler", "jobs", "update", "http"): Spec(
        jobs_update_http,
        JOB_FLAGS | {"update-headers", "remove-headers"},
        frozenset({"clear-headers"}),
        api="cloudscheduler.googleapis.com",
    ),
}


def answer(argv: list[str]) -> Iterator[tuple[str, str]]:
    """Run one invocation against the saved state; yields (stream, text) to write."""
    call, spec = parse(argv, SPECS)
    if spec.project_positional:
        call.options["project"] = call.positional()
    state = load_state()
    before = json.dumps(state, sort_keys=True)
    project_name, project = project_of(call, state)
    require_api(call, project_name, project, spec.api)
    output = spec.handler(call, project)
    if json.dumps(state, sort_keys=True) != before:  # reads leave the file untouched
        save_state(state)
    if output.note:
        yield "stderr", output.note + "\n"
    if output.error is not None:
        raise output.error
    if output.raw is not None:
        yield "stdout", output.raw
    elif output.resources:
        yield (
            "stdout",
            render(flatten(output.resources, call.value("flatten")), call.value("format")),
        )


def main() -> None:
    argv = sys.argv[1:]
    log_call("gcloud", argv)
    try:
        for stream, text in answer(argv):
            (sys.stdout if stream == "stdout" else sys.stderr).write(text)
    except ToolError as error:
        finish_with(error)


if __name__ == "__main__":
    main()
