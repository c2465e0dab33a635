# Shared set-up for scripts/try and scripts/test; source it, do not run it.
# It installs what is missing: QEMU from Debian packages (when root), a virtual
# environment in .venv with qmpshell in it, and the given extras.

QEMU_PACKAGES="qemu-system-x86 qemu-utils qemu-guest-agent"

ensure_qemu() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v qemu-storage-daemon >/dev/null || missing+=(qemu-utils)
    command -v qemu-ga >/dev/null || missing+=(qemu-guest-agent)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing QEMU from Debian packages: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            ${QEMU_PACKAGES} >/dev/null
    else
        echo "QEMU is missing; install the packages ${missing[*]} (e.g. sudo apt-get install ${QEMU_PACKAGES})" >&2
        exit 1
    fi
}

# ensure_test_tools: the programs the tests drive besides QEMU: tmux (a real terminal)
# and the shells whose completion scripts are tested (zsh, fish; bash is there already).
ensure_test_tools() {
    local missing=()
    local tool
    for tool in tmux zsh fish; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing from Debian packages: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "Missing test tools: ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
}

# ensure_venv [EXTRA]: .venv with qmpshell installed (editable), plus the extra if given.
ensure_venv() {
    local extra=${1:-}
    local spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    local stamp=".venv/.installed-${extra:-base}-$(cksum < pyproject.toml | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    if [ ! -e "$stamp" ]; then
        .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" 2>&1 \
            | grep -v "^WARNING: Location" >&2 || true
        .venv/bin/python -c "import qmpshell" || { echo "installing qmpshell failed" >&2; exit 1; }
        touch "$stamp"
    fi
}
