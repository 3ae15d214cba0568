#!/usr/bin/env bash
# Deploy pronto-sheets: from an empty Google Cloud project to a working deployment in one
# command. Safe to run again: everything that already exists is looked up and updated,
# never created twice. Run ./deploy.sh --help for the options.
#
# What it does, in order (each step is skipped when already done):
#   1. enables the Google APIs the function needs;
#   2. creates the runtime service account pronto-sheets-fn@PROJECT.iam.gserviceaccount.com
#      and the build service account pronto-sheets-build@…, which builds the function with
#      the roles Google documents, instead of the project's default build account;
#   3. stores the Pronto API key, a generated shared token and a generated webhook secret
#      (the path of Pronto's callbacks to the function) in Secret Manager, always through
#      stdin, and lets the runtime service account read all three;
#   4. creates the Firestore database (Native mode) that keeps paid answers and the credit
#      ledger across restarts, with a TTL policy on their expire_at field;
#   5. deploys function/ as a Cloud Run function (gen2) that one instance serves, opens it
#      to callers without a Google identity (the function checks the token itself; where an
#      organisation policy forbids allUsers, by turning off Cloud Run's invoker IAM check),
#      checks that it really is open (the service's IAM policy and annotations, whatever
#      gcloud printed or returned), tells it its own URL and keeps its CPU allocated between
#      requests;
#   6. optionally schedules POST /fill with Cloud Scheduler and pushes apps_script/ with
#      clasp, refusing to delete files of the script project that are not ours;
#   7. prints the function URL, the command that prints the token to paste into the
#      add-in's Settings, and the service account to share sheets with.
#
# Secrets never travel on a command line (where `ps` and shell history could see them):
# they reach gcloud through a pipe from the `printf` builtin, which starts no process. Nor
# are they ever printed (terminal scrollback and CI logs keep what is printed): the summary
# shows the command that reads the token from Secret Manager instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly ROOT

readonly RUNTIME=python312
readonly SA_ID=pronto-sheets-fn
readonly BUILD_SA_ID=pronto-sheets-build
readonly KEY_SECRET=pronto-api-key
readonly TOKEN_SECRET=pronto-sheets-token
# The last part of the path Pronto posts its async results to ({PRONTO_PUBLIC_URL}/webhooks/
# pronto/{secret}): Pronto signs nothing, so knowing the path is what lets a call in.
readonly WEBHOOK_SECRET=pronto-webhook-secret
readonly ACCESSOR_ROLE=roles/secretmanager.secretAccessor
# A build account of our own, because projects created since Cloud Build's service account
# change (2024) build with the Compute Engine default account, which may hold no role at
# all, and the first build fails. Google's remedies: a custom build account passed with
# --build-service-account, granted logging.logWriter and artifactregistry.writer, or the
# Cloud Build Service Account role (cloudbuild.builds.builder, which also reads the
# uploaded source); this account gets all three.
#   https://cloud.google.com/functions/docs/securing/build-custom-sa
#   https://cloud.google.com/build/docs/cloud-build-service-account-updates
#   https://cloud.google.com/run/docs/configuring/services/build-service-account
readonly BUILD_ROLES="roles/cloudbuild.builds.builder roles/logging.logWriter roles/artifactregistry.writer"
# The function keeps answers and the credit ledger in Firestore (PRONTO_STORE=firestore);
# Firestore deletes documents whose expire_at has passed (a TTL policy per collection group).
readonly STORE_ROLE=roles/datastore.user
readonly TTL_FIELD=expire_at
# pronto_sheets_subjects: who each answer is about (hashes), for POST /forget; it expires
# with the answers.
readonly TTL_COLLECTION_GROUPS="pronto_sheets_answers pronto_sheets_ledger pronto_sheets_subjects"
# Cloud Scheduler waits 30 minutes at most for an HTTP target (attemptDeadline lies between
# 15 s and 1,800 s: https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#Job);
# the fill is told to stop at 25 minutes so that it answers in time, and the next run
# carries on where it stopped.
readonly ATTEMPT_DEADLINE=1800s
readonly FILL_DEADLINE_S=1500
# Variables passed to the function unchanged when set here, so a redeploy can tune them.
# The two TTLs say how long a paid answer (30 days) and a "not found" (7 days) are kept:
# the function writes expire_at from them and Firestore's TTL policy deletes at expire_at.
readonly PASSTHROUGH_VARS="PRONTO_DAILY_CREDIT_BUDGET PRONTO_CREDITS_PER_EMAIL PRONTO_CREDITS_PER_PHONE PRONTO_CREDITS_PER_PERSONAL_EMAIL PRONTO_RATE_PER_SECOND PRONTO_MAX_IN_FLIGHT PRONTO_ANSWER_TTL_DAYS PRONTO_NOT_FOUND_TTL_DAYS GOOGLE_ALLOWED_DOMAINS"

PROJECT="${GOOGLE_CLOUD_PROJECT:-}"
REGION="${REGION:-us-central1}"
FUNCTION_NAME="${FUNCTION_NAME:-pronto-sheets}"
FIRESTORE_DATABASE="${PRONTO_FIRESTORE_DATABASE:-(default)}"
FIRESTORE_LOCATION="${PRONTO_FIRESTORE_LOCATION:-$REGION}"
# Extra ID-token identities the person wants accepted, kept next to the ones set here.
EXTRA_AUDIENCES="${GOOGLE_ALLOWED_AUDIENCES:-}"
EXTRA_EMAILS="${GOOGLE_ALLOWED_EMAILS:-}"

SCHEDULE=""
SPREADSHEET_ID=""
TIME_ZONE="Etc/UTC"
SCRIPT_ID=""
REPLACE_SCRIPT=false
DRY_RUN=false

SA_EMAIL=""
BUILD_SA_EMAIL=""
ENABLED_APIS=""
KEY_SECRET_EXISTS=false
TOKEN_SECRET_EXISTS=false
WEBHOOK_SECRET_EXISTS=false
# The project's IAM policy as "ROLE<TAB>MEMBER" lines, read once and kept up to date.
PROJECT_POLICY=""
FIRESTORE_TYPE="" # empty while the database does not exist
TTL_FIELDS=""
KNOWN_URL=""
SERVICE=""
INVOKER_CHECK_OFF=false
# How the deployed function is reachable without a Google identity: "allUsers" (the
# invoker binding) or "invoker-check-off"; empty until checked after the deploy.
OPEN_BY=""
DESCRIBED=""
# The key is taken out of the environment at once, so that no child process (gcloud
# included) inherits it: from here on it lives only in this unexported variable.
API_KEY="${PRONTO_API_KEY:-}"
unset PRONTO_API_KEY
TOKEN=""
SECRET_VALUE=""
# Had the caller's shell exported variables of these names, ours would be exported too.
export -n API_KEY TOKEN SECRET_VALUE
FUNCTION_URL=""
STEP_HINT=""
WORK_DIR=""
SCRIPT_NOTE=""

usage() {
	cat <<'EOF'
Usage: GOOGLE_CLOUD_PROJECT=my-project ./deploy.sh [options]

Deploys pronto-sheets to your Google Cloud project. Run it again at any time: it updates
what exists and creates only what is missing.

Environment:
  GOOGLE_CLOUD_PROJECT   your Google Cloud project id (required)
  PRONTO_API_KEY         your Pronto API key (asked for, without echo, when needed and unset)
  REGION                 where to deploy (default us-central1)
  FUNCTION_NAME          name of the function (default pronto-sheets)
  PRONTO_FIRESTORE_DATABASE
                         the Firestore database for answers and credits (default "(default)")
  PRONTO_FIRESTORE_LOCATION
                         where a new Firestore database is created (default: REGION);
                         it cannot be moved later
  PRONTO_DAILY_CREDIT_BUDGET, PRONTO_CREDITS_PER_EMAIL, PRONTO_CREDITS_PER_PHONE,
  PRONTO_CREDITS_PER_PERSONAL_EMAIL, PRONTO_RATE_PER_SECOND, PRONTO_MAX_IN_FLIGHT,
  GOOGLE_ALLOWED_DOMAINS
                         passed on to the function when set
  PRONTO_ANSWER_TTL_DAYS, PRONTO_NOT_FOUND_TTL_DAYS
                         how many days a paid answer (default 30) and a "not found"
                         (default 7) are kept before Firestore deletes them; passed on
                         when set (whole days, 1 or more)
  GOOGLE_ALLOWED_AUDIENCES, GOOGLE_ALLOWED_EMAILS
                         added to the ones deploy.sh sets (the function URL and the
                         service account), for callers with Google ID tokens

Options:
  --schedule CRON        fill a sheet on a schedule, e.g. --schedule "0 * * * *" (hourly)
  --spreadsheet ID       the sheet to fill (the long id in its address, between /d/ and /edit)
  --time-zone TZ         time zone of the schedule (default Etc/UTC), e.g. Europe/Paris
  --apps-script ID       push apps_script/ to this Apps Script project with clasp
  --replace-script       with --apps-script: also when the project holds other files
                         (pushing deletes them)
  --dry-run              print every command instead of running it; change nothing
  -h, --help             show this help
EOF
}

say() { printf '%s\n' "$*" >&2; }
step() {
	STEP_HINT="${2:-}"
	printf '\n==> %s\n' "$1" >&2
	if [[ $DRY_RUN == true ]]; then printf '\n# %s\n' "$1"; fi
}
die() {
	printf 'deploy.sh: %s\n' "$*" >&2
	exit 1
}

# Prints a command so that it can be pasted back into a shell.
shell_quote() {
	local arg out=""
	for arg in "$@"; do
		if [[ $arg =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
			out+=" $arg"
		elif [[ $arg != *"'"* ]]; then
			out+=" '$arg'"
		else
			out+=" $(printf '%q' "$arg")"
		fi
	done
	printf '%s' "${out# }"
}

on_failure() {
	local what="$1"
	die "$what failed (gcloud's message is above). ${STEP_HINT:+$STEP_HINT }Then run ./deploy.sh again: finished steps are skipped."
}

# Runs a command that changes something; with --dry-run only prints it.
run() {
	if [[ $DRY_RUN == true ]]; then
		shell_quote "$@"
		printf '\n'
		return 0
	fi
	say "+ $(shell_quote "$@")"
	# Progress and results go to stderr: stdout is kept for the final summary.
	"$@" >&2 || on_failure "$(shell_quote "${@:1:3}")"
}

# Like run, for a command that reads a secret on stdin: the value is piped from the printf
# builtin (no process, so no argv) and only a placeholder is ever printed.
run_with_secret() {
	local label="$1" value="$2"
	shift 2
	if [[ $DRY_RUN == true ]]; then
		printf "printf '%%s' '<redacted: %s>' | %s\n" "$label" "$(shell_quote "$@")"
		return 0
	fi
	say "+ printf '%s' '<redacted: $label>' | $(shell_quote "$@")"
	printf '%s' "$value" | "$@" >&2 || on_failure "$(shell_quote "${@:1:3}")"
}

# Like run, tried again a few times: a new service account takes a moment to be visible
# to IAM, and the first binding right after creating it can fail for that reason alone.
run_retrying() {
	local attempt
	if [[ $DRY_RUN == true ]]; then
		run "$@"
		return 0
	fi
	for attempt in 1 2 3 4 5; do
		say "+ $(shell_quote "$@")"
		if "$@" >&2; then return 0; fi
		if [[ $attempt -lt 5 ]]; then
			say "(trying again in $((attempt * 5)) s: a new service account takes a moment to appear)"
			sleep $((attempt * 5))
		fi
	done
	on_failure "$(shell_quote "${@:1:3}")"
}

access_hint() {
	printf 'Check that GOOGLE_CLOUD_PROJECT=%s is your project id and that gcloud is logged in (gcloud auth login) as someone who may administer it, then run ./deploy.sh again.' "$PROJECT"
}

# Runs a read-only gcloud query (also during --dry-run) and prints its output.
query() {
	local out
	if ! out="$(gcloud "$@")"; then
		die "$(shell_quote gcloud "${@:1:2}") failed (its message is above). $(access_hint)"
	fi
	printf '%s' "$out"
}

# Describes a resource: true when it exists (what gcloud printed, in the --format asked for,
# is then in DESCRIBED), false when gcloud answers that it does not. Any other failure (not
# logged in, no permission) stops here with gcloud's message, so a lookup that failed is
# never mistaken for "missing, create it".
exists() {
	local errors status=0
	errors="$(mktemp)"
	DESCRIBED="$(gcloud "$@" 2>"$errors")" || status=$?
	if [[ $status -eq 0 ]]; then
		rm -f "$errors"
		return 0
	fi
	DESCRIBED=""
	if grep -qE 'NOT_FOUND|not found|does not exist' "$errors"; then
		rm -f "$errors"
		return 1
	fi
	cat "$errors" >&2
	rm -f "$errors"
	die "$(shell_quote gcloud "${@:1:2}") failed (its message is above). $(access_hint)"
}

# True when gcloud's value() of a map ("key=value;key=value") holds KEY=VALUE.
has_entry() { [[ ";$1;" == *";$2;"* ]]; }

has_project_role() { [[ $'\n'"$PROJECT_POLICY"$'\n' == *$'\n'"$1"$'\t'"$2"$'\n'* ]]; }

api_enabled() { [[ $'\n'"$ENABLED_APIS"$'\n' == *$'\n'"$1"$'\n'* ]]; }

trim() {
	local value="$1"
	value="${value#"${value%%[![:space:]]*}"}"
	printf '%s' "${value%"${value##*[![:space:]]}"}"
}

# KEY=VALUE pairs for --update-env-vars; switches gcloud's list delimiter to ';' when a
# value holds commas (see `gcloud topic escaping`).
env_vars_flag() {
	local joined="" pair needs_escape=false
	for pair in "$@"; do
		if [[ $pair == *,* ]]; then needs_escape=true; fi
	done
	for pair in "$@"; do
		if [[ $needs_escape == true ]]; then joined+=";$pair"; else joined+=",$pair"; fi
	done
	if [[ $needs_escape == true ]]; then
		printf '^;^%s' "${joined#;}"
	else
		printf '%s' "${joined#,}"
	fi
}

join_csv() {
	local out="" item
	for item in "$@"; do
		if [[ -n $item ]]; then out+=",$item"; fi
	done
	printf '%s' "${out#,}"
}

parse_args() {
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--schedule | --spreadsheet | --time-zone | --apps-script)
			[[ $# -ge 2 ]] || die "$1 needs a value, e.g. $1 $(example_for "$1"). Run ./deploy.sh --help to see the options."
			set_option "$1" "$2"
			shift 2
			;;
		--schedule=* | --spreadsheet=* | --time-zone=* | --apps-script=*)
			set_option "${1%%=*}" "${1#*=}"
			shift
			;;
		--replace-script)
			REPLACE_SCRIPT=true
			shift
			;;
		--dry-run)
			DRY_RUN=true
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		*) die "Unknown option $1. Run ./deploy.sh --help to see the options." ;;
		esac
	done
}

example_for() {
	case "$1" in
	--schedule) printf "'0 * * * *'" ;;
	--spreadsheet) printf '1AbC...xyz' ;;
	--time-zone) printf 'Europe/Paris' ;;
	*) printf 'YOUR_SCRIPT_ID' ;;
	esac
}

set_option() {
	case "$1" in
	--schedule) SCHEDULE="$2" ;;
	--spreadsheet) SPREADSHEET_ID="$2" ;;
	--time-zone) TIME_ZONE="$2" ;;
	--apps-script) SCRIPT_ID="$2" ;;
	esac
}

# Every check that needs no network runs before the first gcloud call.
check_inputs() {
	[[ -n $PROJECT ]] || die "GOOGLE_CLOUD_PROJECT is not set. Set GOOGLE_CLOUD_PROJECT to your Google Cloud project id, e.g. export GOOGLE_CLOUD_PROJECT=my-project (the id is shown in the project picker of console.cloud.google.com), then run ./deploy.sh again."
	[[ $PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || die "GOOGLE_CLOUD_PROJECT=$PROJECT does not look like a project id (6 to 30 lowercase letters, digits or hyphens, e.g. my-project). Use the project id, not its display name: console.cloud.google.com shows both in the project picker."
	[[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "REGION=$REGION does not look like a Google Cloud region. Use one such as us-central1 or europe-west1, or unset REGION to use us-central1."
	[[ $FUNCTION_NAME =~ ^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$ ]] || die "FUNCTION_NAME=$FUNCTION_NAME is not a valid name. Use lowercase letters, digits and hyphens, starting with a letter (e.g. pronto-sheets), or unset FUNCTION_NAME."
	[[ -f $ROOT/function/main.py && -f $ROOT/function/requirements.txt ]] || die "function/main.py or function/requirements.txt is missing next to deploy.sh. Run deploy.sh from a complete copy of the pronto-sheets repository."
	[[ $FIRESTORE_DATABASE == "(default)" || $FIRESTORE_DATABASE =~ ^[a-z][a-z0-9-]{2,61}[a-z0-9]$ ]] || die "PRONTO_FIRESTORE_DATABASE=$FIRESTORE_DATABASE is not a Firestore database id. Use 4 to 63 lowercase letters, digits or hyphens starting with a letter (e.g. pronto-sheets), or unset it to use the project's (default) database."
	local ttl
	for ttl in PRONTO_ANSWER_TTL_DAYS PRONTO_NOT_FOUND_TTL_DAYS; do
		if [[ -n ${!ttl:-} && ! ${!ttl} =~ ^[1-9][0-9]{0,4}$ ]]; then
			die "$ttl=${!ttl} is not a number of days. Give a whole number of days, 1 or more (e.g. $ttl=30), or unset it to keep the default."
		fi
	done
	[[ $FIRESTORE_LOCATION =~ ^[a-z]+(-[a-z]+)?[0-9]+$ ]] || die "PRONTO_FIRESTORE_LOCATION=$FIRESTORE_LOCATION is not a Firestore location. Use a region such as us-central1 or europe-west1, or a multi-region such as nam5 or eur3 (see https://cloud.google.com/firestore/docs/locations), or unset it to use REGION."

	if [[ -n $SCHEDULE || -n $SPREADSHEET_ID ]]; then
		[[ -n $SCHEDULE ]] || die "--spreadsheet needs --schedule too, e.g. --schedule '0 * * * *' --spreadsheet $SPREADSHEET_ID to fill that sheet every hour."
		[[ -n $SPREADSHEET_ID ]] || die "--schedule needs --spreadsheet too: the id of the sheet to fill, the long part of its address between /d/ and /edit."
		local -a fields
		read -r -a fields <<<"$SCHEDULE"
		if [[ ${#fields[@]} -ne 5 || ! $SCHEDULE =~ ^[0-9A-Za-z*/,[:space:]-]+$ ]]; then
			die "--schedule '$SCHEDULE' is not a cron schedule. Give five fields: minute hour day-of-month month day-of-week, e.g. --schedule '0 * * * *' for every hour or '0 6 * * 1-5' for 6:00 on weekdays."
		fi
		[[ $SPREADSHEET_ID =~ ^[A-Za-z0-9_-]{20,}$ ]] || die "--spreadsheet '$SPREADSHEET_ID' is not a spreadsheet id. Copy the long part of the sheet's address between /d/ and /edit, e.g. 1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG."
		[[ $TIME_ZONE =~ ^[A-Za-z0-9_+/-]+$ ]] || die "--time-zone '$TIME_ZONE' is not a time zone name. Use one such as Etc/UTC or Europe/Paris."
	fi
	if [[ $REPLACE_SCRIPT == true && -z $SCRIPT_ID ]]; then
		die "--replace-script goes with --apps-script SCRIPT_ID: it allows replacing the files of that script project. Add --apps-script, or leave out --replace-script."
	fi
	if [[ -n $SCRIPT_ID ]]; then
		[[ $SCRIPT_ID =~ ^[A-Za-z0-9_-]{20,}$ ]] || die "--apps-script '$SCRIPT_ID' is not an Apps Script id. In the sheet open Extensions ▸ Apps Script ▸ Project Settings and copy the Script ID."
		[[ -f $ROOT/apps_script/appsscript.json ]] || die "apps_script/appsscript.json is missing, so there is no Apps Script project to push. Use a complete copy of the repository, or leave out --apps-script and copy the Apps Script files by hand."
	fi
}

check_tools() {
	command -v gcloud >/dev/null 2>&1 || die "The gcloud command is not installed. Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), run gcloud auth login, then run ./deploy.sh again."
	if [[ -n $SCRIPT_ID ]]; then
		command -v clasp >/dev/null 2>&1 || die "--apps-script needs clasp. Install it with npm install -g @google/clasp, run clasp login, then run ./deploy.sh again."
		command -v python3 >/dev/null 2>&1 || command -v jq >/dev/null 2>&1 || die "--apps-script needs python3 or jq to edit apps_script/appsscript.json. Install either one, then run ./deploy.sh again."
	fi
}

# Reads what already exists; no change happens before the API key is known.
survey() {
	step "Looking at project $PROJECT" "Check GOOGLE_CLOUD_PROJECT and your login (gcloud auth login)."
	ENABLED_APIS="$(query services list --enabled --project="$PROJECT" --format='value(config.name)')"
	# https://cloud.google.com/sdk/gcloud/reference/projects/get-iam-policy
	PROJECT_POLICY="$(query projects get-iam-policy "$PROJECT" \
		--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')"
	if api_enabled secretmanager.googleapis.com; then
		if exists secrets describe "$KEY_SECRET" --project="$PROJECT"; then KEY_SECRET_EXISTS=true; fi
		if exists secrets describe "$TOKEN_SECRET" --project="$PROJECT"; then TOKEN_SECRET_EXISTS=true; fi
		if exists secrets describe "$WEBHOOK_SECRET" --project="$PROJECT"; then WEBHOOK_SECRET_EXISTS=true; fi
	fi
	if api_enabled firestore.googleapis.com; then survey_firestore; fi
	if api_enabled cloudfunctions.googleapis.com; then survey_function; fi
}

survey_firestore() {
	# https://cloud.google.com/sdk/gcloud/reference/firestore/databases/describe
	exists firestore databases describe --database="$FIRESTORE_DATABASE" --project="$PROJECT" \
		--format='value(type)' || return 0
	FIRESTORE_TYPE="$DESCRIBED"
	if [[ $FIRESTORE_TYPE == DATASTORE_MODE ]]; then
		die "The Firestore database $FIRESTORE_DATABASE of project $PROJECT is in Datastore mode, and pronto-sheets needs one in Native mode. Set PRONTO_FIRESTORE_DATABASE=pronto-sheets to have deploy.sh create a second database, in Native mode, next to yours; then run ./deploy.sh again."
	fi
	# Every TTL field of the database: https://cloud.google.com/sdk/gcloud/reference/firestore/fields/ttls/list
	TTL_FIELDS="$(query firestore fields ttls list --database="$FIRESTORE_DATABASE" --project="$PROJECT" \
		--format='value(name,ttlConfig.state)')"
}

survey_function() {
	local annotations
	# The service first: a function whose first build failed has one but no URL yet.
	exists functions describe "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
		--format='value(serviceConfig.service,serviceConfig.uri)' || return 0
	IFS=$'\t' read -r SERVICE KNOWN_URL <<<"$DESCRIBED" || true
	SERVICE="${SERVICE##*/}"
	[[ -n $KNOWN_URL && -n $SERVICE ]] && api_enabled run.googleapis.com || return 0
	# https://cloud.google.com/sdk/gcloud/reference/run/services/describe
	if exists run services describe "$SERVICE" --region="$REGION" --project="$PROJECT" \
		--format='value(metadata.annotations)'; then
		annotations="$DESCRIBED"
		if has_entry "$annotations" run.googleapis.com/invoker-iam-disabled=true; then INVOKER_CHECK_OFF=true; fi
	fi
}

# Lists the files of the Apps Script project (clasp pull, into a temporary folder) and stops
# when pushing would delete files that are not pronto-sheets' own, unless --replace-script.
# A new project's untouched Code.gs (an empty myFunction) is not worth asking about.
check_script_project() {
	local dir path relative stem shown ours=$'\n' untouched=""
	local -a foreign=()
	step "Looking at Apps Script project $SCRIPT_ID" "clasp needs you logged in (clasp login) and the Apps Script API turned on at https://script.google.com/home/usersettings."
	while IFS= read -r path; do
		relative="${path#"$ROOT/apps_script/"}"
		ours+="${relative%.*}"$'\n'
	done < <(find "$ROOT/apps_script" -type f \( -name '*.js' -o -name '*.gs' -o -name '*.html' -o -name appsscript.json \))
	make_work_dir
	dir="$WORK_DIR/pull"
	mkdir -p "$dir"
	printf '{"scriptId": "%s", "rootDir": "remote"}\n' "$SCRIPT_ID" >"$dir/.clasp.json"
	say "+ (cd <temporary folder> && clasp pull)"
	(cd "$dir" && clasp pull) >&2 ||
		die "clasp could not read Apps Script project $SCRIPT_ID (its message is above). Run clasp login, turn on the Apps Script API at https://script.google.com/home/usersettings, check the Script ID (Extensions ▸ Apps Script ▸ Project Settings), then run ./deploy.sh again."
	[[ -d $dir/remote ]] || return 0
	while IFS= read -r path; do
		relative="${path#"$dir/remote/"}"
		stem="${relative%.*}"
		if [[ $ours == *$'\n'"$stem"$'\n'* ]]; then continue; fi
		if [[ $stem == Code && "$(tr -d '[:space:]' <"$path")" == 'functionmyFunction(){}' ]]; then
			untouched="Code.gs"
			continue
		fi
		# The names the script editor shows: NAME.gs for code, NAME.html for pages.
		case "$relative" in
		*.js | *.gs) shown="$stem.gs" ;;
		*) shown="$relative" ;;
		esac
		foreign+=("$shown")
	done < <(find "$dir/remote" -type f | LC_ALL=C sort)
	if [[ -n $untouched ]]; then
		SCRIPT_NOTE="Pushing replaces the whole project: the new project's empty Code.gs (function myFunction) is replaced."
	fi
	if [[ ${#foreign[@]} -eq 0 ]]; then
		say "It holds nothing but pronto-sheets files${untouched:+ and an untouched Code.gs}: it can be replaced."
		return 0
	fi
	shown="$(printf '%s, ' "${foreign[@]}")"
	shown="${shown%, }"
	if [[ $REPLACE_SCRIPT == true ]]; then
		say "--replace-script: pushing deletes these files of the script project: $shown."
		SCRIPT_NOTE="Pushing replaces the whole project and deletes, as --replace-script allows: $shown."
		return 0
	fi
	die "Apps Script project $SCRIPT_ID holds files that are not part of pronto-sheets: $shown. Pushing replaces the whole project, so they would be deleted. Copy what you want to keep (in the sheet: Extensions ▸ Apps Script), then run ./deploy.sh again with --replace-script; or use the Script ID of a sheet whose script holds nothing else."
}

obtain_api_key() {
	if [[ -n $API_KEY ]]; then
		API_KEY="$(trim "$API_KEY")"
	elif [[ $KEY_SECRET_EXISTS == true || $DRY_RUN == true ]]; then
		API_KEY="" # keep the key already stored (or, in a dry run, ask nothing)
	elif [[ -t 0 ]]; then
		printf 'Pronto API key (typing is hidden): ' >&2
		IFS= read -rs API_KEY || true
		printf '\n' >&2
		API_KEY="$(trim "$API_KEY")"
		[[ -n $API_KEY ]] || die "No Pronto API key was entered. Copy your key from Pronto's API settings and run ./deploy.sh again."
	else
		die "The Pronto API key is needed and there is no terminal to ask for it. Set PRONTO_API_KEY first, e.g. read -rs PRONTO_API_KEY && export PRONTO_API_KEY, then run ./deploy.sh again."
	fi
	if [[ $API_KEY =~ [[:space:]] ]]; then
		die "The Pronto API key contains spaces or line breaks, so it was probably pasted wrongly. Copy it again from Pronto's API settings and run ./deploy.sh again."
	fi
}

enable_apis() {
	local -a wanted=(cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com
		artifactregistry.googleapis.com secretmanager.googleapis.com sheets.googleapis.com
		iam.googleapis.com firestore.googleapis.com)
	local -a missing=()
	local api
	if [[ -n $SCHEDULE ]]; then wanted+=(cloudscheduler.googleapis.com); fi
	for api in "${wanted[@]}"; do
		if ! api_enabled "$api"; then missing+=("$api"); fi
	done
	step "Enabling Google APIs" "A new project needs a billing account: link one at https://console.cloud.google.com/billing/linkedaccount?project=$PROJECT"
	if [[ ${#missing[@]} -eq 0 ]]; then
		say "All needed APIs are already enabled."
		return 0
	fi
	run gcloud services enable "${missing[@]}" --project="$PROJECT" --quiet
	if [[ $DRY_RUN == false ]]; then
		ENABLED_APIS+=$'\n'"$(printf '%s\n' "${missing[@]}")"
	fi
}

# Creates service account ID@PROJECT unless it exists; DISPLAY and DESCRIPTION name its job.
ensure_account() {
	local id="$1" display="$2" description="$3"
	if api_enabled iam.googleapis.com && exists iam service-accounts describe "$id@$PROJECT.iam.gserviceaccount.com" --project="$PROJECT"; then
		say "It already exists."
		return 0
	fi
	run gcloud iam service-accounts create "$id" --project="$PROJECT" \
		--display-name="$display" --description="$description" --quiet
}

# Grants ROLE on the project to MEMBER unless the policy read at the start already has it.
grant_project_role() {
	local role="$1" member="$2"
	if has_project_role "$role" "$member"; then
		say "$role: already granted."
		return 0
	fi
	# --condition=None: add it unconditionally, also to a policy holding conditional bindings
	# (https://cloud.google.com/sdk/gcloud/reference/projects/add-iam-policy-binding).
	run_retrying gcloud projects add-iam-policy-binding "$PROJECT" --member="$member" \
		--role="$role" --condition=None --format=none --quiet
	PROJECT_POLICY+=$'\n'"$role"$'\t'"$member"
}

ensure_service_account() {
	SA_EMAIL="$SA_ID@$PROJECT.iam.gserviceaccount.com"
	step "Runtime service account $SA_EMAIL" "Creating service accounts needs the Owner or Service Account Admin role on the project."
	ensure_account "$SA_ID" "Pronto Sheets function" \
		"Runs the pronto-sheets function, writes to the sheets shared with it, signs Cloud Scheduler calls."
}

ensure_build_account() {
	local role
	BUILD_SA_EMAIL="$BUILD_SA_ID@$PROJECT.iam.gserviceaccount.com"
	step "Build service account $BUILD_SA_EMAIL" "Creating service accounts and granting them roles needs the Owner role, or Service Account Admin and Project IAM Admin."
	ensure_account "$BUILD_SA_ID" "Pronto Sheets build" \
		"Builds the pronto-sheets function with Cloud Build, in place of the default build account."
	for role in $BUILD_ROLES; do
		grant_project_role "$role" "serviceAccount:$BUILD_SA_EMAIL"
	done
}

generate_token() {
	# 32 random bytes as hex: long enough that guessing is hopeless, plain enough to paste.
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# Sets SECRET_VALUE to the latest version of secret $1; returns 1 when it has no usable
# version. Any other failure (no permission) stops here: carrying on would replace a
# working token and cut off every sheet that uses it.
read_secret() {
	local errors status=0
	errors="$(mktemp)"
	SECRET_VALUE="$(gcloud secrets versions access latest --secret="$1" --project="$PROJECT" 2>"$errors")" || status=$?
	if [[ $status -eq 0 ]]; then
		rm -f "$errors"
		return 0
	fi
	SECRET_VALUE=""
	if grep -qE 'NOT_FOUND|FAILED_PRECONDITION' "$errors"; then
		rm -f "$errors"
		return 1
	fi
	cat "$errors" >&2
	rm -f "$errors"
	die "gcloud could not read secret $1 (its message is above). Check that you may administer project $PROJECT (Owner or Secret Manager Admin role), then run ./deploy.sh again."
}

store_secrets() {
	step "Secrets $KEY_SECRET, $TOKEN_SECRET and $WEBHOOK_SECRET in Secret Manager" "Managing secrets needs the Owner or Secret Manager Admin role on the project."
	if [[ $KEY_SECRET_EXISTS == false ]]; then
		run_with_secret "Pronto API key" "$API_KEY" gcloud secrets create "$KEY_SECRET" \
			--replication-policy=automatic --data-file=- --project="$PROJECT" --quiet
	elif [[ -n $API_KEY ]]; then
		if read_secret "$KEY_SECRET" && [[ $SECRET_VALUE == "$API_KEY" ]]; then
			say "The stored Pronto API key is the one given: kept."
		else
			say "PRONTO_API_KEY differs from the stored key: it becomes the new version."
			run_with_secret "Pronto API key" "$API_KEY" gcloud secrets versions add "$KEY_SECRET" \
				--data-file=- --project="$PROJECT" --quiet
		fi
	else
		say "The stored Pronto API key is kept (set PRONTO_API_KEY to replace it)."
	fi

	if [[ $TOKEN_SECRET_EXISTS == true ]]; then
		if read_secret "$TOKEN_SECRET" && [[ -n $SECRET_VALUE ]]; then
			TOKEN="$SECRET_VALUE"
			say "The shared token already exists: kept."
		else
			TOKEN="$(generate_token)"
			run_with_secret "shared token" "$TOKEN" gcloud secrets versions add "$TOKEN_SECRET" \
				--data-file=- --project="$PROJECT" --quiet
		fi
	else
		TOKEN="$(generate_token)"
		run_with_secret "shared token" "$TOKEN" gcloud secrets create "$TOKEN_SECRET" \
			--replication-policy=automatic --data-file=- --project="$PROJECT" --quiet
	fi

	# Made once per deployment and kept: Pronto may still post to the path of a lookup
	# started before this run. Nobody needs to read it but the function.
	if [[ $WEBHOOK_SECRET_EXISTS == true ]]; then
		say "The webhook secret already exists: kept."
	else
		run_with_secret "webhook secret" "$(generate_token)" gcloud secrets create "$WEBHOOK_SECRET" \
			--replication-policy=automatic --data-file=- --project="$PROJECT" --quiet
	fi
}

grant_secret_access() {
	local secret existed policy
	step "Letting $SA_EMAIL read the secrets" "Granting access needs the Owner or Secret Manager Admin role on the project."
	for secret in "$KEY_SECRET" "$TOKEN_SECRET" "$WEBHOOK_SECRET"; do
		case "$secret" in
		"$KEY_SECRET") existed=$KEY_SECRET_EXISTS ;;
		"$TOKEN_SECRET") existed=$TOKEN_SECRET_EXISTS ;;
		*) existed=$WEBHOOK_SECRET_EXISTS ;;
		esac
		if [[ $existed == true ]]; then
			policy="$(query secrets get-iam-policy "$secret" --project="$PROJECT" \
				--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')"
			if [[ $'\n'"$policy"$'\n' == *$'\n'"$ACCESSOR_ROLE"$'\t'"serviceAccount:$SA_EMAIL"$'\n'* ]]; then
				say "$secret: already readable."
				continue
			fi
		fi
		run_retrying gcloud secrets add-iam-policy-binding "$secret" --project="$PROJECT" \
			--member="serviceAccount:$SA_EMAIL" --role="$ACCESSOR_ROLE" --quiet
	done
}

ttl_enabled() {
	local group="$1" line
	while IFS= read -r line; do
		case "$line" in
		*"/collectionGroups/$group/fields/$TTL_FIELD"$'\t'ACTIVE | *"/collectionGroups/$group/fields/$TTL_FIELD"$'\t'CREATING) return 0 ;;
		esac
	done <<<"$TTL_FIELDS"
	return 1
}

# The function's memory across restarts: paid answers and the day's credit ledger.
ensure_firestore() {
	local group
	step "Firestore database $FIRESTORE_DATABASE for answers and the credit ledger" "Creating a Firestore database needs the Owner or Cloud Datastore Owner role; the project's (default) database must be created in the location the project already uses for it, if any (set PRONTO_FIRESTORE_LOCATION)."
	if [[ -n $FIRESTORE_TYPE ]]; then
		say "It exists (Native mode)."
	else
		# https://cloud.google.com/sdk/gcloud/reference/firestore/databases/create
		run gcloud firestore databases create --database="$FIRESTORE_DATABASE" \
			--location="$FIRESTORE_LOCATION" --type=firestore-native --project="$PROJECT" --quiet
	fi
	# Firestore deletes a document once its expire_at has passed (a cached answer after 30 or
	# 7 days, a day's ledger after its day). --async: the policy takes minutes to build and
	# nothing here waits for it.
	# https://cloud.google.com/sdk/gcloud/reference/firestore/fields/ttls/update
	for group in $TTL_COLLECTION_GROUPS; do
		if ttl_enabled "$group"; then
			say "$group: documents already expire at $TTL_FIELD."
			continue
		fi
		run gcloud firestore fields ttls update "$TTL_FIELD" --collection-group="$group" \
			--database="$FIRESTORE_DATABASE" --enable-ttl --async --project="$PROJECT" --quiet
	done
	grant_project_role "$STORE_ROLE" "serviceAccount:$SA_EMAIL"
}

# Runs the deploy command given, showing its output. True when it succeeded, or when all
# went through but the allUsers binding, which an organisation policy refused (the function
# is deployed, but private; verify_public_access finds that out either way); any other
# failure stops here. Older gcloud only warns about that refusal and exits 0, which is why
# what gcloud returns is never taken as proof that the function is public.
deploy_refusing_only_public() {
	local errors
	if [[ $DRY_RUN == true ]]; then
		run "$@"
		return 0
	fi
	say "+ $(shell_quote "$@")"
	errors="$(mktemp)"
	if "$@" 2>&1 | tee "$errors" >&2; then
		rm -f "$errors"
		return 0
	fi
	# gcloud: "One or more users named in the policy do not belong to a permitted customer,
	# perhaps due to an organization policy." (constraints/iam.allowedPolicyMemberDomains)
	if grep -qE 'permitted customer|allowedPolicyMemberDomains' "$errors"; then
		rm -f "$errors"
		return 0
	fi
	rm -f "$errors"
	on_failure "$(shell_quote "${@:1:3}")"
}

# Sets OPEN_BY to how Cloud Run lets a call without a Google identity reach the service
# ("allUsers" or "invoker-check-off"), or to "" when it does not: read from the service
# itself (its invoker-iam-disabled annotation and its IAM policy), never from what gcloud
# said while deploying. ANNOTATIONS is the service's "key=value;…" list, read by the caller.
# https://cloud.google.com/run/docs/authenticating/public
read_public_access() {
	local annotations="$1" policy
	OPEN_BY=""
	if has_entry "$annotations" run.googleapis.com/invoker-iam-disabled=true; then
		OPEN_BY=invoker-check-off
		return 0
	fi
	# https://cloud.google.com/sdk/gcloud/reference/run/services/get-iam-policy
	policy="$(query run services get-iam-policy "$SERVICE" --region="$REGION" --project="$PROJECT" \
		--flatten='bindings[].members' --format='value(bindings.role,bindings.members)')"
	if [[ $'\n'"$policy"$'\n' == *$'\n'"roles/run.invoker"$'\t'"allUsers"$'\n'* ]]; then
		OPEN_BY=allUsers
	fi
}

# The service's and its revision template's annotations, as one "key=value;…" list.
service_annotations() {
	local annotations
	annotations="$(query run services describe "$SERVICE" --region="$REGION" --project="$PROJECT" \
		--format='value(metadata.annotations,spec.template.metadata.annotations)')"
	printf '%s' "${annotations//$'\t'/;}"
}

deploy_function() {
	local described audiences emails var annotations
	local -a env_pairs=() access=(--allow-unauthenticated) settings=() secrets=()
	step "Deploying function $FUNCTION_NAME (this takes a few minutes)" "If the build failed, its log link is above. The build runs as $BUILD_SA_EMAIL: if it says a permission is missing, run ./deploy.sh again (it grants the build account's roles again) and check that no organisation policy removes them."
	if [[ -n $KNOWN_URL ]]; then
		say "It exists at $KNOWN_URL: updating it."
	elif [[ -n $SERVICE ]]; then
		say "It exists but has no URL yet (an earlier deploy did not finish): deploying it again."
	fi

	# Scheduler's OIDC tokens carry the function URL as audience, and the async lane gives
	# Pronto webhook URLs under it (PRONTO_PUBLIC_URL); the URL is only known once the
	# function exists, so the first deploy sets both right after (below).
	emails="$(join_csv "$SA_EMAIL" "$EXTRA_EMAILS")"
	env_pairs+=("GOOGLE_ALLOWED_EMAILS=$emails")
	if [[ -n $KNOWN_URL ]]; then
		env_pairs+=("GOOGLE_ALLOWED_AUDIENCES=$(join_csv "$KNOWN_URL" "$EXTRA_AUDIENCES")")
		env_pairs+=("PRONTO_PUBLIC_URL=$KNOWN_URL")
	elif [[ -n $EXTRA_AUDIENCES ]]; then
		env_pairs+=("GOOGLE_ALLOWED_AUDIENCES=$EXTRA_AUDIENCES")
	fi
	# Newer runtimes do not set GOOGLE_CLOUD_PROJECT (https://cloud.google.com/functions/docs/configuring/env-var,
	# "Newer runtimes"): the Firestore store reads its project from it.
	env_pairs+=("PRONTO_STORE=firestore" "GOOGLE_CLOUD_PROJECT=$PROJECT")
	if [[ $FIRESTORE_DATABASE != "(default)" ]]; then
		env_pairs+=("PRONTO_FIRESTORE_DATABASE=$FIRESTORE_DATABASE")
	fi
	for var in $PASSTHROUGH_VARS; do
		if [[ -n ${!var:-} ]]; then env_pairs+=("$var=${!var}"); fi
	done
	secrets=("PRONTO_API_KEY=$KEY_SECRET:latest" "PRONTO_SHEETS_TOKENS=$TOKEN_SECRET:latest"
		"PRONTO_WEBHOOK_SECRET=$WEBHOOK_SECRET:latest")

	# --allow-unauthenticated: the sheet's formulas cannot send a Google identity (custom
	# functions run without authorization), so Cloud Run lets every request through and the
	# function authenticates each one itself (shared bearer token or a Google ID token of
	# an allowed identity), refusing every call without one. Where Cloud Run's invoker check
	# is already off (an organisation refused allUsers, see below), the flag is left out:
	# gcloud then leaves access as it is instead of asking again for the refused binding.
	if [[ $INVOKER_CHECK_OFF == true ]]; then access=(); fi
	# One instance (--max-instances=1) owns the whole Pronto gate (50 req/s, 5 open, the
	# daily credit budget); the requests it holds mostly wait on that gate, so it takes many
	# at once (--concurrency, which needs a whole CPU). --min-instances=0: nothing is billed
	# while idle. 3600 s is the longest HTTP request gen2 allows (a whole-sheet /fill).
	# --build-service-account: https://cloud.google.com/sdk/gcloud/reference/functions/deploy
	deploy_refusing_only_public gcloud functions deploy "$FUNCTION_NAME" --gen2 --region="$REGION" --project="$PROJECT" \
		--runtime="$RUNTIME" --source="$ROOT/function" --entry-point=pronto --trigger-http \
		${access[@]+"${access[@]}"} --service-account="$SA_EMAIL" \
		--build-service-account="projects/$PROJECT/serviceAccounts/$BUILD_SA_EMAIL" \
		--timeout=3600s --memory=1Gi --cpu=1 --concurrency=250 --min-instances=0 --max-instances=1 \
		--set-secrets="$(join_csv "${secrets[@]}")" \
		--update-env-vars="$(env_vars_flag "${env_pairs[@]}")" \
		--quiet

	if [[ $DRY_RUN == true ]]; then
		FUNCTION_URL="${KNOWN_URL:-<function URL>}"
		SERVICE="${SERVICE:-$FUNCTION_NAME}"
		settings=(--no-cpu-throttling)
	else
		described="$(query functions describe "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
			--format='value(serviceConfig.service,serviceConfig.uri)')"
		IFS=$'\t' read -r SERVICE FUNCTION_URL <<<"$described" || true
		[[ -n $FUNCTION_URL ]] || die "The function was deployed but Google did not report its URL yet. Wait a minute, then run ./deploy.sh again."
		SERVICE="${SERVICE##*/}"
		annotations="$(service_annotations)"
		# Lookups that /enrich answers "pending" go on after the response: with CPU throttled
		# outside requests they would stall, so the CPU stays allocated (instance-based
		# billing; see the README's Cost section). Only Cloud Run can set it, and a function
		# deploy may set it back, so it is checked after every deploy.
		# https://cloud.google.com/run/docs/configuring/billing-settings
		if ! has_entry "$annotations" run.googleapis.com/cpu-throttling=false; then
			settings+=(--no-cpu-throttling)
		fi
		read_public_access "$annotations"
		if [[ -z $OPEN_BY ]]; then
			say ""
			say "The function is deployed, but Cloud Run does not let allUsers call it: gcloud's message above says why (usually your organisation's policy, domain restricted sharing, which does not allow granting access to allUsers). deploy.sh turns off Cloud Run's invoker IAM check on it instead, the way Google documents for this case (https://cloud.google.com/run/docs/authenticating/public). Anyone can then reach the URL, as with allUsers, and the function still refuses every call without the shared token or an allowed Google ID token."
			settings+=(--no-invoker-iam-check)
		fi
	fi
	if [[ $FUNCTION_URL != "$KNOWN_URL" ]]; then
		audiences="$(join_csv "$FUNCTION_URL" "$EXTRA_AUDIENCES")"
		settings+=("--update-env-vars=$(env_vars_flag "GOOGLE_ALLOWED_AUDIENCES=$audiences" "PRONTO_PUBLIC_URL=$FUNCTION_URL")")
	fi
	if [[ ${#settings[@]} -eq 0 ]]; then
		say "Its Cloud Run settings are as they should be."
		return 0
	fi
	update_service "${settings[@]}"
}

# Applies Cloud Run SETTINGS to the function's service, then checks again that the service
# is open; stops with what to ask for when neither allUsers nor the invoker check could be
# set, whatever gcloud returned.
update_service() {
	local -a settings=("$@")
	local refused=false
	step "Cloud Run settings of $SERVICE" "Updating the function's Cloud Run service needs the Owner or Cloud Run Admin role."
	if [[ " ${settings[*]} " == *" --no-cpu-throttling "* ]]; then
		say "CPU allocated between requests, so that lookups answered \"pending\" go on after the response."
	fi
	if [[ " ${settings[*]} " == *" --no-invoker-iam-check "* ]]; then
		say "Invoker IAM check off: the function is reachable without a Google identity, and checks the token itself."
	fi
	if [[ $FUNCTION_URL != "$KNOWN_URL" ]]; then
		say "Google ID tokens addressed to $FUNCTION_URL are accepted, and Pronto's webhooks are sent under it."
	fi
	# Cloud Run applies a settings change as a new revision of the same build: no rebuild.
	# --no-cpu-throttling, --no-invoker-iam-check: https://cloud.google.com/sdk/gcloud/reference/run/services/update
	if [[ $DRY_RUN == true ]]; then
		run gcloud run services update "$SERVICE" --region="$REGION" --project="$PROJECT" "${settings[@]}" --quiet
		return 0
	fi
	say "+ $(shell_quote gcloud run services update "$SERVICE" --region="$REGION" --project="$PROJECT" "${settings[@]}" --quiet)"
	if ! gcloud run services update "$SERVICE" --region="$REGION" --project="$PROJECT" "${settings[@]}" --quiet >&2; then
		[[ " ${settings[*]} " == *" --no-invoker-iam-check "* ]] || on_failure "gcloud run services update"
		refused=true
	fi
	if [[ " ${settings[*]} " == *" --no-invoker-iam-check "* ]]; then
		read_public_access "$(service_annotations)"
		if [[ -z $OPEN_BY ]]; then
			if [[ $refused == true ]]; then say ""; fi # gcloud's refusal is above
			die "The function is deployed at $FUNCTION_URL but nobody can call it without a Google identity: Cloud Run refused both ways of opening it, granting allUsers and turning off its invoker IAM check (your organisation may forbid the first with domain restricted sharing, constraints/iam.allowedPolicyMemberDomains, and require the second with constraints/run.managed.requireInvokerIam). Ask an organisation administrator to allow one of them for project $PROJECT, or to grant you the Cloud Run Admin role if that is what is missing, then run ./deploy.sh again."
		fi
	fi
}

ensure_schedule() {
	local job="$FUNCTION_NAME-fill-$SPREADSHEET_ID" verb=create headers_flag=--headers
	local body
	# deadline_s: the fill stops cleanly before the scheduler's own deadline (see ATTEMPT_DEADLINE).
	body="$(printf '{"spreadsheet_id": "%s", "deadline_s": %d}' "$SPREADSHEET_ID" "$FILL_DEADLINE_S")"
	step "Scheduling a fill of sheet $SPREADSHEET_ID ($SCHEDULE, $TIME_ZONE)" "Cloud Scheduler needs the Owner or Cloud Scheduler Admin role, and permission to act as $SA_EMAIL."
	if api_enabled cloudscheduler.googleapis.com &&
		exists scheduler jobs describe "$job" --location="$REGION" --project="$PROJECT"; then
		say "Job $job exists: updating it."
		verb=update
		headers_flag=--update-headers
	fi
	# The OIDC token is signed for the runtime service account with the function URL as
	# audience: exactly what GOOGLE_ALLOWED_EMAILS and GOOGLE_ALLOWED_AUDIENCES accept.
	run gcloud scheduler jobs "$verb" http "$job" --location="$REGION" --project="$PROJECT" \
		--schedule="$SCHEDULE" --time-zone="$TIME_ZONE" \
		--uri="$FUNCTION_URL/fill" --http-method=POST \
		"$headers_flag=Content-Type=application/json" --message-body="$body" \
		--oidc-service-account-email="$SA_EMAIL" --oidc-token-audience="$FUNCTION_URL" \
		--attempt-deadline="$ATTEMPT_DEADLINE" --quiet
}

cleanup() {
	if [[ -n $WORK_DIR ]]; then rm -rf "$WORK_DIR"; fi
}

# Makes the temporary folder once (removed when the script ends); WORK_DIR names it.
make_work_dir() {
	if [[ -z $WORK_DIR ]]; then
		WORK_DIR="$(mktemp -d)"
		trap cleanup EXIT
	fi
}

# Makes PREFIX the only entry of urlFetchWhitelist in the manifest at PATH, keeping every
# other field: the add-in may then fetch this deployment's function and nothing else.
restrict_manifest_to_url() {
	local manifest="$1" prefix="$2" edited
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$manifest" "$prefix" <<'PY' || return 1
import json, sys
path, prefix = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as handle:
    manifest = json.load(handle)
manifest["urlFetchWhitelist"] = [prefix]
with open(path, "w", encoding="utf-8") as handle:
    json.dump(manifest, handle, indent=2, ensure_ascii=False)
    handle.write("\n")
PY
	else
		edited="$(jq --arg p "$prefix" '.urlFetchWhitelist = [$p]' "$manifest")" || return 1
		printf '%s\n' "$edited" >"$manifest"
	fi
}

push_apps_script() {
	local dir
	step "Pushing apps_script/ to Apps Script project $SCRIPT_ID" "clasp needs you logged in (clasp login) and the Apps Script API turned on at https://script.google.com/home/usersettings."
	if [[ $DRY_RUN == true ]]; then
		printf '# copy apps_script/ to a temporary folder, make %s/ the only urlFetchWhitelist entry of its appsscript.json,\n' "$FUNCTION_URL"
		printf '# write .clasp.json {"scriptId": "%s", "rootDir": "apps_script"} there, then in that folder:\n' "$SCRIPT_ID"
		run clasp push --force
		return 0
	fi
	if [[ -n $SCRIPT_NOTE ]]; then say "$SCRIPT_NOTE"; fi
	# A copy is pushed, so the checkout stays as it was (no URL of one deployment in it, no
	# .clasp.json). The pushed manifest allows fetching this function's URL and nothing else
	# (no wildcard that any other run.app service would match). Apps Script matches each
	# entry as a prefix that must have a non-empty path ("https://www.google.com/" is valid,
	# "https://www.google.com" is not), hence the trailing slash:
	# https://developers.google.com/apps-script/manifest/allowlist-url
	make_work_dir
	dir="$WORK_DIR/push"
	mkdir -p "$dir"
	cp -R "$ROOT/apps_script" "$dir/apps_script"
	if [[ -f $ROOT/.claspignore ]]; then cp "$ROOT/.claspignore" "$dir/.claspignore"; fi
	restrict_manifest_to_url "$dir/apps_script/appsscript.json" "$FUNCTION_URL/" ||
		die "apps_script/appsscript.json is not valid JSON (the error is above). Fix the file, then run ./deploy.sh again."
	printf '{"scriptId": "%s", "rootDir": "apps_script"}\n' "$SCRIPT_ID" >"$dir/.clasp.json"
	say "+ (cd <copy of apps_script> && clasp push --force)"
	(cd "$dir" && clasp push --force) >&2 ||
		die "clasp push failed (its message is above). Run clasp login, turn on the Apps Script API at https://script.google.com/home/usersettings, check the Script ID, then run ./deploy.sh again."
}

# The command that prints the token to paste into the add-in's Settings. The secret may
# hold "new,old" while sheets move to a new token (the function accepts both): the first
# is the current one, hence the cut.
token_command() {
	printf 'gcloud secrets versions access latest --secret=%s --project=%s | cut -d, -f1' \
		"$TOKEN_SECRET" "$PROJECT"
}

print_summary() {
	if [[ $DRY_RUN == true ]]; then
		printf '\n# Dry run: nothing was changed. Without --dry-run, deploy.sh would end by printing:\n'
	fi
	# The token itself is never printed (scrollback and CI logs keep what is): whoever runs
	# the command shown needs to be allowed to read the secret, which Secret Manager checks.
	cat <<EOF

Pronto Sheets is deployed.

  Function URL        $FUNCTION_URL
  Token for Settings  print it with: $(token_command)
  Service account     $SA_EMAIL

Next steps:
EOF
	if [[ -z $SCRIPT_ID ]]; then
		cat <<EOF
  - Put the Apps Script code into your sheet: run this again with --apps-script SCRIPT_ID
    (in the sheet: Extensions ▸ Apps Script ▸ Project Settings ▸ Script ID).
EOF
	fi
	cat <<EOF
  - Reload your sheet and open Extensions ▸ Pronto enrichment ▸ Settings… (the add-in's
    menu is under Extensions; a script bound to the sheet names it after the Apps Script
    project). Paste the function URL and the token, and save.
    Keep the token private: whoever has it can spend your Pronto credits.
  - To let the function fill a sheet itself (Extensions ▸ Pronto enrichment ▸ Fill this
    sheet on the server, or a schedule), share that sheet with $SA_EMAIL as Editor.
EOF
	if [[ $OPEN_BY == invoker-check-off || $INVOKER_CHECK_OFF == true ]]; then
		cat <<EOF
  - Your organisation does not allow access for allUsers, so Cloud Run's invoker IAM check
    is off for this function instead: the token (or an allowed Google ID token) is what
    lets a call in.
EOF
	fi
	if [[ -n $SCHEDULE ]]; then
		printf '  - Sheet %s is filled on schedule "%s" (%s). To stop it:\n' "$SPREADSHEET_ID" "$SCHEDULE" "$TIME_ZONE"
		printf '      gcloud scheduler jobs delete %s --location=%s --project=%s\n' \
			"$FUNCTION_NAME-fill-$SPREADSHEET_ID" "$REGION" "$PROJECT"
	fi
}

main() {
	parse_args "$@"
	check_inputs
	check_tools
	if [[ $DRY_RUN == true ]]; then
		printf '# Dry run for project %s: the commands deploy.sh would run. Nothing is changed.\n' "$PROJECT"
	fi
	survey
	if [[ -n $SCRIPT_ID ]]; then check_script_project; fi
	obtain_api_key
	enable_apis
	ensure_service_account
	ensure_build_account
	store_secrets
	grant_secret_access
	ensure_firestore
	deploy_function
	if [[ -n $SCHEDULE ]]; then ensure_schedule; fi
	if [[ -n $SCRIPT_ID ]]; then push_apps_script; fi
	print_summary
}

main "$@"
