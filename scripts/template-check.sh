#!/usr/bin/env bash
# The template's own check: this repository is a cargo-generate template (cargo-generate.toml),
# and this proves that it works as one. It renders the work tree as it is (tracked and new
# files, committed or not) and
#
# 1. renders it with the repository's own values and compares the result with the
#    repository, file by file: a file whose `.liquid` twin was forgotten in a change (a
#    dependency added to Cargo.toml but not to Cargo.toml.liquid) fails here;
# 2. reports how many files a service generated without alerts has that differ from the
#    default one's;
# 3. generates services under awkward names, one of them without alerts, and for each checks
#    that nothing of this repository is left (its name in any case, unrendered Liquid, twins,
#    template-only files, and the alert in the one without it), renames the workspace
#    members in the shipped Cargo.lock, checks the formatting, builds with `--locked` offline
#    and runs the generated README's test command, `cargo test --workspace`.
#
# The generated services share this repository's target directory (or CARGO_TARGET_DIR), so
# the external crates are built once. Each is generated and built in a temporary directory
# outside this repository, so that none of its `.cargo/config.toml` or manifests can stand
# in for a generated one's. Their crates have the repository's names and relative paths,
# which is all cargo hashes a path package's artifacts by: built one after the other into
# one target directory, a service without alerts and the repository would take each other's
# `domain`, each judged fresh by its file times. So each service's own crates are cleaned
# out before it is built, and once more when the check ends, passed or failed, for the
# repository's next build.
#
# Environment:
#   TEMPLATE_PROJECTS  which services to generate (default: all, see PROJECTS below)
#   TEMPLATE_RENDER_ONLY=1  generate and check the services, but build nothing (seconds)
#   TEMPLATE_UPDATE_SNAPSHOT=1  rewrite the snapshot of the rendered files (see below)
#   TEMPLATE_SKIP_TESTS=1  build the services but do not run their tests
set -euo pipefail

cd "$(dirname "$0")/.."
readonly REPO="$PWD"

# Pinned like every tool here: 0.23.14 is the newest release that installs with Rust 1.95
# (later ones need 1.96 or 1.97). Installing took about 4 minutes on 2 cores; it happens
# once per machine.
readonly CARGO_GENERATE_VERSION=0.23.14

# The repository's own values: rendering with them must reproduce the repository.
readonly OWN_NAME=hexagate
readonly OWN_VALUES=(
    -d "description=Approval gates and alerts with chat as the interface."
    -d "problem_base_url=https://hexagate.dev/problems/"
)

# The services generated, under awkward names on purpose: a digit and a hyphen, an
# underscore and one-letter words.
readonly PROJECTS=(acme-payments2 x_y)

# values NAME: the `-d key=value` arguments NAME is generated with, one a line; the rest
# take their defaults.
values() {
    case "$1" in
        acme-payments2)
            printf '%s\n' -d "maintainers=Jane Doe <jane@example.com>, Ops Team <ops@example.com>"
            ;;
        x_y)
            printf '%s\n' -d "problem_base_url=https://errors.x-y.test/problems/" \
                -d "description=A service with a two-letter name." -d alerts=false
            ;;
    esac
}

# expected NAME: a line each generated service NAME's bin/Cargo.toml must hold, for the values
# it was generated with (so a value that reaches no file fails).
expected() {
    case "$1" in
        acme-payments2)
            printf '%s\n' 'description = "Approval gates with chat as the interface."' \
                'authors = ["Jane Doe <jane@example.com>", "Ops Team <ops@example.com>"]'
            ;;
        x_y) printf '%s\n' 'description = "A service with a two-letter name."' ;;
    esac
}

# check_values NAME DIR: the values NAME was generated with are in its manifest.
check_values() {
    local line
    while IFS= read -r line; do
        grep -qxF "$line" "$2/bin/Cargo.toml" || fail "$1: bin/Cargo.toml lacks: $line"
    done < <(expected "$1")
}

# without NAME: whether NAME is generated without the alert aggregate, of which it must then
# hold no trace.
without_alerts() {
    values "$1" | grep -qxF alerts=false
}

# toml_list FILE KEY: the strings of the first list `KEY = [ … ]` in FILE, one a line.
toml_list() {
    awk -v key="$2" '
        !done && $0 ~ "^" key " = \\[" { inside = 1; next }
        inside && /^\]/ { inside = 0; done = 1 }
        inside && match($0, /"[^"]*"/) { print substr($0, RSTART + 1, RLENGTH - 2) }
    ' "$1"
}

# Files that Liquid renders (cargo-generate.toml's `include`): after generation none of them
# may hold `{{` or `{%`. Other files are copied verbatim and may hold either (Rust format
# strings, GitHub expressions).
mapfile -t RENDERED < <(toml_list cargo-generate.toml include)
readonly RENDERED

# The rendered files kept in the snapshot: the manifests, the scripts and the documents. The
# Rust twins are left out: rendered with the defaults they are the repository's own files,
# which the twins check compares, and the service generated without alerts builds and tests
# the other side.
readonly SNAPSHOTTED=(Cargo.toml bin/Cargo.toml .cargo/config.toml .ci/run Dockerfile README.md ARCHITECTURE.md)

# The rendered files of the first service are kept under scripts/template-snapshot/ (as
# `.snap` files, so that cargo never reads them as manifests): a change to a twin shows up as
# a diff of what a generated service gets, reviewed with the change.
readonly SNAPSHOT="$REPO/scripts/template-snapshot"

step() {
    printf '\n--> %s\n' "$*"
}

fail() {
    echo "template check failed: $*" >&2
    exit 1
}

ensure_cargo_generate() {
    # It prints "cargo generate-generate 0.23.14" when run as `cargo generate`.
    if [[ "$(cargo generate --version 2>/dev/null)" == *" $CARGO_GENERATE_VERSION" ]]; then
        return
    fi
    echo "installing cargo-generate $CARGO_GENERATE_VERSION (about 4 minutes on 2 cores, once per machine)"
    cargo install cargo-generate --version "$CARGO_GENERATE_VERSION" --locked
}

work="$(mktemp -d)"
# Set once a generated service is built into the shared target directory, whose crates must
# then be cleaned out again (see the top of this file) however the check ends.
built_into=""
finish() {
    if [[ -n "$built_into" ]]; then
        (cd "$REPO" && CARGO_TARGET_DIR="$built_into" clean_members) || true
    fi
    rm -rf "$work"
}
trap finish EXIT

# The work tree as git sees it (tracked and untracked files, not ignored ones), so that a
# change is checked before it is committed and target/ is never copied.
export_template() {
    local dir="$work/template"
    mkdir -p "$dir"
    git ls-files --cached --others --exclude-standard -z |
        while IFS= read -r -d '' file; do
            if [[ -e "$file" ]]; then printf '%s\0' "$file"; fi
        done |
        tar --null --files-from=- -cf - | tar -xf - -C "$dir"
    echo "$dir"
}

# generate NAME [-d key=value …]: renders the template into a new directory under $work and
# prints the service's path.
generate() {
    local name="$1"
    shift
    generate_into "$work/out-$name" "$name" "$@"
}

# generate_into OUT NAME [-d key=value …]: renders the template into OUT/NAME and prints its
# path.
generate_into() {
    local out="$1" name="$2"
    shift 2
    mkdir -p "$out"
    # Outside any workspace (a temporary directory), so cargo-generate touches no manifest.
    cargo generate --path "$template" --name "$name" --destination "$out" \
        --silent --vcs none --no-workspace "$@" >"$out.log" 2>&1 ||
        { cat "$out.log" >&2; fail "cargo generate --name $name"; }
    echo "$out/$name"
}

# The repository, minus what the template leaves out, rendered with its own values, must be
# the repository again: every twin reproduces the file beside it.
check_twins() {
    local own
    own="$(generate "$OWN_NAME" "${OWN_VALUES[@]}")"
    local expected="$work/expected"
    cp -a "$template" "$expected"
    # What the template leaves out: its own configuration, the twins, and the files its
    # `ignore` list names.
    rm -f "$expected/cargo-generate.toml"
    find "$expected" -name '*.liquid' -delete
    local ignored
    while read -r ignored; do
        rm -rf "${expected:?}/$ignored"
    done < <(toml_list "$template/cargo-generate.toml" ignore)
    if ! diff -r "$expected" "$own" >"$work/twins.diff"; then
        cat "$work/twins.diff" >&2
        fail "rendering the template with the repository's own values does not give the" \
            "repository back: a .liquid twin is out of date (the diff above: < repository," \
            "> rendered)"
    fi
    echo "every .liquid twin renders to the file beside it"
}

# check_leftovers DIR NAME: nothing of this repository is left in the service NAME generated
# in DIR, nor of an aggregate it was generated without.
check_leftovers() {
    local dir="$1" name="$2" found
    found="$(grep -rIil --exclude-dir=target hexagate "$dir" || true)"
    [[ -z "$found" ]] || fail "the template's name is left in:"$'\n'"$found"
    if without_alerts "$name"; then
        found="$(grep -rIil --exclude-dir=target alert "$dir" || true)"
        [[ -z "$found" ]] || fail "$name is generated without alerts, yet they are named in:"$'\n'"$found"
    fi
    found="$(find "$dir" -name '*.liquid' -o -name cargo-generate.toml -o -name .genignore \
        -o -path '*/scripts/template-check.sh' -o -path '*/bench' -o -name rust-toolchain.toml \
        -o -name rust-toolchain)"
    [[ -z "$found" ]] || fail "template-only files are left:"$'\n'"$found"
    local file
    for file in "${RENDERED[@]}"; do
        [[ -f "$dir/$file" ]] || fail "$file is missing"
        # `${{ … }}` is a GitHub Actions expression (the README's CI example), not Liquid.
        if grep -nE '(^|[^$])\{\{|\{%' "$dir/$file"; then
            fail "unrendered Liquid in $file"
        fi
    done
}

# check_snapshot DIR: DIR's rendered files are the snapshot's.
check_snapshot() {
    local dir="$1" file
    if [[ "${TEMPLATE_UPDATE_SNAPSHOT:-}" == 1 ]]; then
        rm -rf "$SNAPSHOT"
        for file in "${SNAPSHOTTED[@]}"; do
            mkdir -p "$(dirname "$SNAPSHOT/$file")"
            cp "$dir/$file" "$SNAPSHOT/$file.snap"
        done
        echo "snapshot rewritten: $SNAPSHOT"
        return
    fi
    for file in "${SNAPSHOTTED[@]}"; do
        diff -u "$SNAPSHOT/$file.snap" "$dir/$file" ||
            fail "$file renders differently from the snapshot (the diff above); if the change" \
                "is meant, rewrite it: TEMPLATE_UPDATE_SNAPSHOT=1 TEMPLATE_RENDER_ONLY=1 $0"
    done
    echo "the rendered files match the snapshot"
}

# One name generated with and without alerts: how many of the files both have differ (the
# files only the default has are the aggregate's own). A report, not a check.
report_alerts_difference() {
    local with="$work/alerts-true" without="$work/alerts-false"
    generate_into "$with" probe >/dev/null
    generate_into "$without" probe -d alerts=false >/dev/null
    local both=0 differing=()
    while IFS= read -r file; do
        [[ -f "$without/probe/$file" ]] || continue
        both=$((both + 1))
        cmp -s "$with/probe/$file" "$without/probe/$file" || differing+=("$file")
    done < <(cd "$with/probe" && find . -type f | sed 's|^\./||' | sort)
    echo "alerts=false leaves out $(($(find "$with/probe" -type f | wc -l) - both)) files;" \
        "of the $both files both have, ${#differing[@]} differ:"
    printf '  %s\n' "${differing[@]}"
}

# clean_members: removes the artifacts of the workspace in the current directory's own
# crates from the shared target directory (see the top of this file for why).
clean_members() {
    local name args=()
    while read -r name; do
        args+=(-p "$name")
    done < <(cargo tree --workspace --depth 0 --prefix none --offline -e normal |
        awk 'NF { print $1 }' | sort -u)
    cargo clean --offline --quiet "${args[@]}"
}

# build_and_test DIR NAME: the service NAME in DIR builds offline and passes its tests.
build_and_test() {
    local dir="$1" name="$2"
    (
        cd "$dir"
        export CARGO_TARGET_DIR="$target_dir" CARGO_NET_OFFLINE=true
        # The shipped Cargo.lock names this repository's packages; this renames the workspace
        # members and keeps every external version. The leftovers check comes after it, so it
        # covers Cargo.lock too.
        cargo update --workspace --offline --quiet
        check_leftovers "$dir" "$name"
        # A twin's other branch is Rust that rustfmt has never seen in this repository.
        cargo fmt --all --check || fail "$name is not formatted as rustfmt would"
        [[ "${TEMPLATE_RENDER_ONLY:-}" != 1 ]] || exit 0
        clean_members
        cargo build --workspace --all-targets --locked --offline
        if [[ "${TEMPLATE_SKIP_TESTS:-}" != 1 ]]; then
            # The generated README's test command, as a newcomer runs it.
            grep -q '^cargo test --workspace ' README.md ||
                fail "the generated README no longer gives 'cargo test --workspace'"
            cargo test --workspace
        fi
    )
}

step "cargo-generate $CARGO_GENERATE_VERSION"
ensure_cargo_generate

template="$(export_template)"
target_dir="${CARGO_TARGET_DIR:-$REPO/target}"

step "twins reproduce the repository"
check_twins

step "what alerts=false changes"
report_alerts_difference

for name in "${PROJECTS[@]}"; do
    if [[ -n "${TEMPLATE_PROJECTS:-}" && " $TEMPLATE_PROJECTS " != *" $name "* ]]; then
        continue
    fi
    mapfile -t defines < <(values "$name")
    step "generate $name ${defines[*]:-(defaults)}"
    started=$SECONDS
    fresh="$(generate "$name" "${defines[@]}")"
    check_values "$name" "$fresh"
    if [[ "$name" == "${PROJECTS[0]}" ]]; then
        check_snapshot "$fresh"
    fi
    [[ "${TEMPLATE_RENDER_ONLY:-}" == 1 ]] || built_into="$target_dir"
    build_and_test "$fresh" "$name"
    echo "$name: done in $((SECONDS - started)) s"
done

