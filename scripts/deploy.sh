#!/usr/bin/env bash
# Deploy Review Keeper to Google Cloud for one school or a whole trust. DEPLOY.md walks through it step by step.
#
#   scripts/deploy.sh --project my-trust-keeper --dry-run            # print every command, run none
#   scripts/deploy.sh --project my-school-keeper --mail smtp          # one school: Scheduler -> keeper-sweep; and
#                                                                     #   the public keeper-confirm (contributors'
#                                                                     #   links) and keeper-papers (papers' links)
#   scripts/deploy.sh --project my-trust-keeper --trust --mail sendgrid
#                                                                     # a trust: Scheduler -> keeper-dispatch -> Cloud
#                                                                     #   Tasks queue -> keeper-sweep, one task per school,
#                                                                     #   paced inside the Sheets quota and retried
#   scripts/deploy.sh --project my-school-keeper --mail none --state-dir /mnt/keeper
#                                                                     # the sent-ledgers on lasting storage mounted
#                                                                     #   there (DEPLOY.md, step 4a)
#
# Everything runs in europe-west2 (London) by default, so pupils' data stays in the UK. Safe to run again: whatever
# exists already is updated, not duplicated, and the functions' environment variables are updated one by one
# (--update-env-vars), so a variable added by hand stays. Secrets go into Secret Manager and reach the functions as
# environment variables (--set-secrets: the script owns that list); they are never written to keeper.toml or printed.
# A mail secret is created without its value: the script then stops, before any function is deployed, and prints the
# one command that adds it.
set -euo pipefail

PROJECT="${KEEPER_PROJECT:-}"
REGION="europe-west2"
MODE="school"
MAIL=""
M365=0
CONFIG="keeper.toml"
STATE_DIR=""
DRY_RUN=0
MONTHLY_PLAN=0
TOPIC="keeper-sweep"
QUEUE="keeper-sweeps"
# The queue's default pace (schools a second) is worked out from the Sheets quota in ONE place,
# connectors/queue_tasks.py (its lines SHEETS_READS_PER_MINUTE, READS_PER_SCHOOL and RESERVED_READS_PER_MINUTE), so
# the queue, the tasks' scheduleTimes and scripts/bench_trust.py cannot drift apart: (60 - 6) / 2 / 60 = 0.45.
default_queue_rate() {
  awk '$2 == "=" && $1 == "SHEETS_READS_PER_MINUTE" { quota = $3 }
       $2 == "=" && $1 == "READS_PER_SCHOOL" { reads = $3 }
       $2 == "=" && $1 == "RESERVED_READS_PER_MINUTE" { reserved = $3 }
       END {
         if (quota + 0 <= 0 || reads + 0 <= 0 || reserved == "" || quota - reserved <= 0) exit 1
         printf "%.4g\n", (quota - reserved) / reads / 60
       }' "$(dirname "$0")/../connectors/queue_tasks.py"
}
if ! DEFAULT_QUEUE_RATE="$(default_queue_rate)"; then
  echo "deploy.sh: could not work out the queue's pace from connectors/queue_tasks.py; run this script from a copy of the whole repository." >&2
  exit 70
fi
QUEUE_RATE="$DEFAULT_QUEUE_RATE"
QUEUE_CONCURRENCY="10"
SCHEDULE="0 7 * * 1-5" # 07:00 on weekdays (Mon-Fri), London time, winter and summer
TIME_ZONE="Europe/London"
RUNNER_NAME="keeper-runner"
SCHEDULER_NAME="keeper-scheduler"
LINK_SECRET="keeper-link-secret"

usage() {
  cat <<EOF
Usage: scripts/deploy.sh --project PROJECT_ID [options]

  --project ID      the Google Cloud project (or set KEEPER_PROJECT)
  --region REGION   default europe-west2 (London): keep pupils' data in the UK
  --trust           several schools: one Cloud Tasks task per school, dispatched at --queue-rate and retried
                    later the same morning when a sweep fails
  --queue-rate R    trust only: schools swept per second (default ${DEFAULT_QUEUE_RATE}, worked out in
                    connectors/queue_tasks.py: a tenth under the Sheets reads a minute one service account
                    may make, at 2 a school); see DEPLOY.md, step 4b
  --mail KIND       how emails go: smtp, sendgrid, graph (Microsoft 365, as the school account), or none (the
                    sweep writes the register's AR columns and sends no email). Needed for a real deploy; a
                    --dry-run without it shows none.
  --m365            registers in OneDrive/SharePoint (Microsoft Graph): the key of the school account's stored
                    sign-in goes in Secret Manager (DEPLOY.md, step 6). Implied by --mail graph.
  --config FILE     the settings file to deploy with the code (default keeper.toml)
  --state-dir PATH  where lasting storage is mounted in the functions (KEEPER_STATE_DIR): each school's
                    sent-ledger lives there (DEPLOY.md, step 4a). Without it the ledger is on the function's
                    temporary disk.
  --monthly-plan    also plan each register's year on the 1st of every month at 06:00 (a second Scheduler job
                    posting {"job": "plan"}: AR suggested meeting and the Plan tab; no emails); README, "Planning
                    the year"
  --dry-run         print every command and run none of them
  -h, --help        this help
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --project) PROJECT="${2:?--project needs a project id}"; shift 2 ;;
    --region) REGION="${2:?--region needs a region}"; shift 2 ;;
    --trust) MODE="trust"; shift ;;
    --mail) MAIL="${2:?--mail needs smtp, sendgrid, graph or none}"; shift 2 ;;
    --m365) M365=1; shift ;;
    --config) CONFIG="${2:?--config needs a file}"; shift 2 ;;
    --state-dir) STATE_DIR="${2:?--state-dir needs a path}"; shift 2 ;;
    --queue-rate) QUEUE_RATE="${2:?--queue-rate needs schools per second, e.g. $DEFAULT_QUEUE_RATE}"; shift 2 ;;
    --monthly-plan) MONTHLY_PLAN=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "deploy.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
done

if [ -z "$PROJECT" ]; then
  echo "deploy.sh: give the Google Cloud project with --project ID (or set KEEPER_PROJECT)." >&2
  exit 64
fi
# No default: an outbox in the cloud would "send" into a disk that is thrown away after each run, while the register
# and the sent-ledger recorded the emails as sent, so they would never go. The IT lead chooses, knowingly.
case "$MAIL" in
  smtp | sendgrid | none) ;;
  graph) M365=1 ;;
  "")
    if [ "$DRY_RUN" -eq 0 ]; then
      echo "deploy.sh: say how emails go: --mail smtp, --mail sendgrid, or --mail none (no emails; the register's AR columns are still written every morning)." >&2
      exit 64
    fi
    MAIL="none"
    ;;
  outbox) echo "deploy.sh: --mail outbox cannot work in the cloud (the function's disk is emptied after each run); use smtp, sendgrid, or none for no emails." >&2; exit 64 ;;
  *) echo "deploy.sh: --mail is \"$MAIL\"; use smtp, sendgrid, graph or none." >&2; exit 64 ;;
esac
case "$STATE_DIR" in
  "" | /*) ;;
  *) echo "deploy.sh: --state-dir is \"$STATE_DIR\"; give the absolute path where the storage is mounted, e.g. /mnt/keeper." >&2; exit 64 ;;
esac
if ! [[ "$QUEUE_RATE" =~ ^[0-9]*\.?[0-9]+$ ]] || [[ "$QUEUE_RATE" =~ ^[0.]+$ ]]; then
  echo "deploy.sh: --queue-rate is \"$QUEUE_RATE\"; give the schools swept per second as a number, e.g. $DEFAULT_QUEUE_RATE." >&2
  exit 64
fi
case "$STATE_DIR" in
  *,*) echo "deploy.sh: --state-dir cannot contain a comma (gcloud separates variables with commas)." >&2; exit 64 ;;
esac

cd "$(dirname "$0")/.."
if [ "$DRY_RUN" -eq 0 ] && [ ! -f "$CONFIG" ]; then
  echo "deploy.sh: no $CONFIG here; write it first (see DEPLOY.md, step 2)." >&2
  exit 66
fi

RUNNER="${RUNNER_NAME}@${PROJECT}.iam.gserviceaccount.com"
SCHEDULER="${SCHEDULER_NAME}@${PROJECT}.iam.gserviceaccount.com"

# Print a command exactly as it would run (shell-quoted), then run it unless this is a dry run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [ "$DRY_RUN" -eq 0 ]; then
    "$@"
  fi
}

# True when a gcloud "describe" finds the thing; always false in a dry run, so every create command is printed.
exists() {
  if [ "$DRY_RUN" -eq 1 ]; then
    return 1
  fi
  "$@" >/dev/null 2>&1
}

# A function's HTTPS address (a placeholder in a dry run, where nothing was deployed to ask).
function_url() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf 'https://%s-PROJECT-HASH.%s.run.app' "$1" "$REGION"
    return
  fi
  gcloud functions describe "$1" --gen2 --region "$REGION" --project "$PROJECT" --format 'value(serviceConfig.uri)'
}

step() {
  printf '\n# %s\n' "$*"
}

step "1. The Google Cloud services Review Keeper uses"
run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com \
  artifactregistry.googleapis.com eventarc.googleapis.com pubsub.googleapis.com cloudscheduler.googleapis.com \
  secretmanager.googleapis.com sheets.googleapis.com logging.googleapis.com cloudtasks.googleapis.com \
  --project "$PROJECT"

step "2. Two service accounts: one the functions run as, one the scheduler calls them with"
if ! exists gcloud iam service-accounts describe "$RUNNER" --project "$PROJECT"; then
  run gcloud iam service-accounts create "$RUNNER_NAME" --project "$PROJECT" \
    --display-name "Review Keeper functions" \
    --description "Reads and writes the registers (share each Google Sheet with this address as an editor)"
fi
if ! exists gcloud iam service-accounts describe "$SCHEDULER" --project "$PROJECT"; then
  run gcloud iam service-accounts create "$SCHEDULER_NAME" --project "$PROJECT" \
    --display-name "Review Keeper scheduler" --description "Calls the daily sweep with an OIDC token"
fi
# Least privilege: write logs. Secrets and, in a trust, the queue are granted one by one below.
run gcloud projects add-iam-policy-binding "$PROJECT" --member "serviceAccount:$RUNNER" \
  --role roles/logging.logWriter --condition None

step "3. Secrets in Secret Manager (never in keeper.toml)"
SECRETS="KEEPER_LINK_SECRET=${LINK_SECRET}:latest"
if ! exists gcloud secrets describe "$LINK_SECRET" --project "$PROJECT"; then
  # 48 random bytes sign every contributor's link; nobody needs to know them.
  printf "+ openssl rand -base64 48 | tr -d '\\\\n' | gcloud secrets create %q --data-file=- --replication-policy user-managed --locations %q --project %q\n" \
    "$LINK_SECRET" "$REGION" "$PROJECT"
  if [ "$DRY_RUN" -eq 0 ]; then
    openssl rand -base64 48 | tr -d '\n' | gcloud secrets create "$LINK_SECRET" --data-file=- \
      --replication-policy user-managed --locations "$REGION" --project "$PROJECT"
  fi
fi
mail_secrets=()
if [ "$MAIL" = "sendgrid" ]; then
  mail_secrets=("keeper-sendgrid-api-key=SENDGRID_API_KEY")
elif [ "$MAIL" = "smtp" ]; then
  mail_secrets=("keeper-smtp-password=KEEPER_SMTP_PASSWORD")
fi
if [ "$M365" -eq 1 ]; then
  # The key that unlocks the school account's sign-in (m365-tokens.bin in KEEPER_STATE_DIR); made by the IT lead with
  # `python main.py m365-login --new-key`, like the mail secrets typed in, never passed to this script.
  mail_secrets+=("keeper-m365-token-key=KEEPER_TOKEN_KEY")
fi
for pair in "${mail_secrets[@]}"; do
  name="${pair%%=*}"
  variable="${pair#*=}"
  if ! exists gcloud secrets describe "$name" --project "$PROJECT"; then
    # Created empty: its value is typed by the IT lead (below), never passed to this script or written to a file.
    run gcloud secrets create "$name" --replication-policy user-managed --locations "$REGION" --project "$PROJECT"
  fi
  SECRETS="${SECRETS},${variable}=${name}:latest"
done
for name in "$LINK_SECRET" "${mail_secrets[@]%%=*}"; do
  run gcloud secrets add-iam-policy-binding "$name" --project "$PROJECT" \
    --member "serviceAccount:$RUNNER" --role roles/secretmanager.secretAccessor
done

# A function deployed with --set-secrets NAME:latest fails when the secret has no version, half-way through the
# deploy. So every secret must have a value before any function is deployed; the script stops here otherwise.
has_value() {
  printf '+ gcloud secrets versions list %q --project %q --limit=1 --format=%q\n' "$1" "$PROJECT" 'value(name)'
  if [ "$DRY_RUN" -eq 1 ]; then
    # Nothing exists in a dry run: the link secret was just made with its value, a mail secret without.
    [ "$1" = "$LINK_SECRET" ]
    return
  fi
  local versions
  # (set -e does not apply inside an `if` condition: a failed listing is stopped here, not taken for "no value".)
  if ! versions="$(gcloud secrets versions list "$1" --project "$PROJECT" --limit=1 --format='value(name)')"; then
    echo "deploy.sh: could not list the versions of the secret $1 (gcloud's message is above)." >&2
    exit 1
  fi
  [ -n "$versions" ]
}
# The command that gives a secret its value. printf '%s' adds no newline, which would otherwise become part of the
# password or key; a command line starting with a space is not kept in bash's history (HISTCONTROL=ignorespace).
add_value_command() {
  local placeholder
  case "$1" in
    "$LINK_SECRET")
      printf "  openssl rand -base64 48 | tr -d '\\\\n' | gcloud secrets versions add %q --data-file=- --project %q\n" \
        "$1" "$PROJECT"
      return
      ;;
    keeper-sendgrid-api-key) placeholder="PASTE-THE-SENDGRID-API-KEY-HERE" ;;
    keeper-m365-token-key) placeholder="PASTE-THE-KEY-FROM-M365-LOGIN-NEW-KEY" ;;
    *) placeholder="PASTE-THE-SMTP-PASSWORD-HERE" ;;
  esac
  printf "  printf '%%s' '%s' | gcloud secrets versions add %q --data-file=- --project %q\n" "$placeholder" "$1" "$PROJECT"
}
missing=()
for name in "$LINK_SECRET" "${mail_secrets[@]%%=*}"; do
  if ! has_value "$name"; then
    missing+=("$name")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "# A real deploy stops here until each mail secret has a value; add it with (replace the capitals):"
    for name in "${missing[@]}"; do
      printf '#%s' "$(add_value_command "$name")"
      printf '\n'
    done
  else
    {
      echo "deploy.sh: stopped before deploying the functions: a function cannot start while a secret it uses has"
      echo "no value, and these have none yet: ${missing[*]}. Add each value with the command below (start the line"
      echo "with a space so your shell does not keep it in its history; replace the capitals, keep the quotes), then"
      echo "run this script again."
      echo
      for name in "${missing[@]}"; do
        add_value_command "$name"
      done
    } >&2
    exit 78
  fi
fi

if [ "$MODE" = "trust" ]; then
  step "4. The Cloud Tasks queue that paces one task per school inside the Sheets quota"
  # The queue dispatches first attempts and retries alike at --max-dispatches-per-second. A failed sweep (a 429 that
  # outlasted the sweep's own retries, Google briefly down) is tried again after 1, 2, 4, 8 and 10 minutes: later
  # the same morning, never the next weekday. A register the SENDCo has broken fails the same way each time and is
  # reported by every attempt's log line; six attempts bound what it costs.
  # Bursts: the queue's token bucket may let up to maxBurstSize tasks go at once (Google picks it from the rate; gcloud
  # cannot set it). First attempts never use it, since each task is due one step after the one before (connectors/
  # queue_tasks.py); retries falling due together can, and --max-concurrent-dispatches bounds them to 10 sweeps at once
  # (a sweep takes seconds, so the pace needs 2 or 3; the rest is for sweeps that send many emails).
  queue_verb="create"
  if exists gcloud tasks queues describe "$QUEUE" --location "$REGION" --project "$PROJECT"; then
    queue_verb="update"
  fi
  run gcloud tasks queues "$queue_verb" "$QUEUE" --location "$REGION" --project "$PROJECT" \
    --max-dispatches-per-second "$QUEUE_RATE" --max-concurrent-dispatches "$QUEUE_CONCURRENCY" \
    --max-attempts 6 --min-backoff 60s --max-backoff 600s --max-doublings 3 --max-retry-duration 7200s
  run gcloud tasks queues add-iam-policy-binding "$QUEUE" --location "$REGION" --project "$PROJECT" \
    --member "serviceAccount:$RUNNER" --role roles/cloudtasks.enqueuer
  # keeper-dispatch (running as keeper-runner) creates tasks that call keeper-sweep with keeper-runner's OIDC token.
  run gcloud iam service-accounts add-iam-policy-binding "$RUNNER" --project "$PROJECT" \
    --member "serviceAccount:$RUNNER" --role roles/iam.serviceAccountUser
fi

step "5. The functions (2nd gen, Python 3.12, $REGION)"
common=(--gen2 --runtime python312 --region "$REGION" --project "$PROJECT" --source .
  --service-account "$RUNNER" --set-secrets "$SECRETS")
# --update-env-vars, not --set-env-vars: these are set on every run, and whatever else the IT lead added by hand stays
# (--set-env-vars would replace the whole list and wipe it).
env_vars="KEEPER_CONFIG=${CONFIG},KEEPER_PROJECT=${PROJECT},KEEPER_SWEEP_TOPIC=${TOPIC},KEEPER_MAIL=${MAIL}"
if [ -n "$STATE_DIR" ]; then
  # The sent-ledgers: on lasting storage they stop a rerun (or a second run at the same time) sending an email twice.
  env_vars="${env_vars},KEEPER_STATE_DIR=${STATE_DIR}"
fi

# The confirmation page is public: the signed link in each email is the contributor's only key.
run gcloud functions deploy keeper-confirm "${common[@]}" --entry-point confirm --trigger-http \
  --allow-unauthenticated --memory 512Mi --timeout 60s --max-instances 10 --update-env-vars "$env_vars"
CONFIRM_URL="$(function_url keeper-confirm)"
env_vars="${env_vars},KEEPER_BASE_URL=${CONFIRM_URL}"

# The papers packs' download links (main.py papers --send) are public too: the signed link, which expires after the
# meeting, is the invitee's only key. The function only reads the packs published under KEEPER_STATE_DIR and checks
# links, so it gets the link secret and no other (no mail, no Microsoft 365 sign-in).
papers_common=(--gen2 --runtime python312 --region "$REGION" --project "$PROJECT" --source .
  --service-account "$RUNNER" --set-secrets "KEEPER_LINK_SECRET=${LINK_SECRET}:latest")
run gcloud functions deploy keeper-papers "${papers_common[@]}" --entry-point papers --trigger-http \
  --allow-unauthenticated --memory 512Mi --timeout 60s --max-instances 10 --update-env-vars "$env_vars"
PAPERS_URL="$(function_url keeper-papers)"

# Private: only the scheduler's service account (and in a trust the queue, as keeper-runner) may call the sweep
# (Cloud Run IAM checks the OIDC token). In a trust the queue runs up to QUEUE_CONCURRENCY schools at once.
sweep_instances=1
if [ "$MODE" = "trust" ]; then
  sweep_instances="$QUEUE_CONCURRENCY"
fi
run gcloud functions deploy keeper-sweep "${common[@]}" --entry-point sweep_http --trigger-http \
  --no-allow-unauthenticated --memory 1Gi --timeout 540s --max-instances "$sweep_instances" \
  --update-env-vars "$env_vars"
if [ "$MODE" = "trust" ]; then
  run gcloud functions add-invoker-policy-binding keeper-sweep --region "$REGION" --project "$PROJECT" \
    --member "serviceAccount:$RUNNER"
  SWEEP_URL="$(function_url keeper-sweep)"
  queue_vars="KEEPER_TASKS_QUEUE=${QUEUE},KEEPER_TASKS_LOCATION=${REGION},KEEPER_TASKS_RATE=${QUEUE_RATE}"
  queue_vars="${queue_vars},KEEPER_TASKS_SERVICE_ACCOUNT=${RUNNER},KEEPER_SWEEP_URL=${SWEEP_URL}"
  run gcloud functions deploy keeper-dispatch "${common[@]}" --entry-point dispatch --trigger-http \
    --no-allow-unauthenticated --memory 256Mi --timeout 300s --max-instances 1 \
    --update-env-vars "${env_vars},${queue_vars}"
fi

step "6. Who may call the private functions"
TARGET_FUNCTION="keeper-sweep"
if [ "$MODE" = "trust" ]; then
  TARGET_FUNCTION="keeper-dispatch"
fi
run gcloud functions add-invoker-policy-binding "$TARGET_FUNCTION" --region "$REGION" --project "$PROJECT" \
  --member "serviceAccount:$SCHEDULER"

step "7. Cloud Scheduler: weekdays at 07:00, Europe/London, with an OIDC token"
TARGET_URL="$(function_url "$TARGET_FUNCTION")"
JOB="keeper-daily-sweep"
verb="create"
if exists gcloud scheduler jobs describe "$JOB" --location "$REGION" --project "$PROJECT"; then
  verb="update"
fi
run gcloud scheduler jobs "$verb" http "$JOB" --location "$REGION" --project "$PROJECT" \
  --schedule "$SCHEDULE" --time-zone "$TIME_ZONE" --uri "$TARGET_URL" --http-method POST \
  --headers "Content-Type=application/json" --message-body "{}" \
  --oidc-service-account-email "$SCHEDULER" --oidc-token-audience "$TARGET_URL" \
  --attempt-deadline 540s

if [ "$MONTHLY_PLAN" -eq 1 ]; then
  step "7b. Cloud Scheduler: the monthly plan, 06:00 on the 1st, the same function and token"
  PLAN_JOB="keeper-monthly-plan"
  verb="create"
  if exists gcloud scheduler jobs describe "$PLAN_JOB" --location "$REGION" --project "$PROJECT"; then
    verb="update"
  fi
  # One school: keeper-sweep plans it; a trust: keeper-dispatch adds one plan task a school to the queue, paced
  # inside the Sheets quota like the sweep.
  run gcloud scheduler jobs "$verb" http "$PLAN_JOB" --location "$REGION" --project "$PROJECT" \
    --schedule "0 6 1 * *" --time-zone "$TIME_ZONE" --uri "$TARGET_URL" --http-method POST \
    --headers "Content-Type=application/json" --message-body '{"job": "plan"}' \
    --oidc-service-account-email "$SCHEDULER" --oidc-token-audience "$TARGET_URL" \
    --attempt-deadline 540s
fi

step "Done"
if [ "$MAIL" = "none" ]; then
  echo "# --mail none: the sweep writes the register's AR columns every morning and sends no email."
fi
if [ -z "$STATE_DIR" ]; then
  echo "# No --state-dir: a KEEPER_STATE_DIR set by an earlier deploy stays; without one the sent-ledgers are on each"
  echo "# function's temporary disk. See DEPLOY.md, step 4a."
else
  echo "# The sent-ledgers go under ${STATE_DIR}: mount lasting storage there (DEPLOY.md, step 4a) after each deploy."
fi
echo "# Contributors' links point at: ${CONFIRM_URL}/confirm"
echo "# Papers links: where you run main.py papers --send, set KEEPER_PAPERS_URL=${PAPERS_URL} and publish the packs"
echo "# into the storage mounted at KEEPER_STATE_DIR (DEPLOY.md, step 4d)."
echo "# Share each school's Google Sheet with ${RUNNER} (Editor)."
if [ "$M365" -eq 1 ]; then
  echo "# Microsoft 365 registers: share each with the school account (Can edit), and copy the sign-in made by"
  echo "# \`python main.py m365-login\` (m365-tokens.bin) into the storage mounted at KEEPER_STATE_DIR (DEPLOY.md, step 6)."
fi
if [ "$MODE" = "trust" ]; then
  echo "# Schools are swept at ${QUEUE_RATE} a second through the queue ${QUEUE}. An earlier deploy's Pub/Sub fan-out"
  echo "# (keeper-sweep-event, topic ${TOPIC}) is no longer used: DEPLOY.md, step 4b, says how to remove it."
fi
echo "# Try it now: gcloud scheduler jobs run ${JOB} --location ${REGION} --project ${PROJECT}"
