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

# ensure_libvirt: libvirtd with its QEMU driver and virsh, for the tests of --libvirt, and
# what building libvirt-python needs (libvirt-dev, pkg-config; gcc is there already). Not
# libvirt-daemon-system: it brings init glue; the tests start the daemons themselves
# (tests/libvirt_fixture.py), which also writes the settings they need into qemu.conf.
# Returns 1 (after saying so) when libvirt is missing and cannot be installed here: the
# rest of the suite can still run, and the libvirt tests say why they skip.
# openssh-server (and its client): the test of qemu+ssh:// URIs runs an sshd of its own.
LIBVIRT_PACKAGES="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config openssh-server openssh-client"

ensure_libvirt() {
    local missing=()
    local package
    if command -v dpkg-query >/dev/null; then
        for package in $LIBVIRT_PACKAGES; do
            dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
                || missing+=("$package")
        done
    else
        command -v libvirtd >/dev/null && command -v virsh >/dev/null \
            && pkg-config --exists libvirt 2>/dev/null || missing=($LIBVIRT_PACKAGES)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Installing libvirt from Debian packages: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || { echo "installing libvirt failed" >&2; exit 1; }
    else
        echo "libvirt is missing (${missing[*]}): the --libvirt tests will be skipped" >&2
        return 1
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

# QEMU 10.0 from Debian's bookworm-backports, for a second run of the tests. It is
# unpacked (dpkg -x) under QEMU10_DIR, beside the apt-installed 7.2, which it leaves
# alone; QEMU10_DIR/bin/qemu-system-x86_64 runs it with its own firmware and modules.
# qemu-storage-daemon is not in these packages (it is in qemu-utils): the tests keep
# using the 7.2 daemon either way.
QEMU10_DIR=/var/cache/qmpshell/qemu-10.0
# The first three are QEMU itself. The modules moved out of qemu-system-common after 7.2:
# without 10.0's own copies, 10.0 falls back to 7.2's module directory, compiled into it,
# and aborts in qom-list-types when a module of the other build fails to load.
QEMU10_PACKAGES="qemu-system-x86 qemu-system-common qemu-system-data
    qemu-system-modules-opengl qemu-system-modules-spice"

# ensure_qemu10: QEMU10_DIR prepared (once; later calls only report the version).
ensure_qemu10() {
    local dir=$QEMU10_DIR
    if [ ! -x "$dir/bin/qemu-system-x86_64" ]; then
        if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
            echo "QEMU 10.0 is not prepared in $dir; run this as root on Debian 12 to prepare it" >&2
            exit 1
        fi
        _unpack_qemu10 "$dir" || { echo "preparing QEMU 10.0 failed" >&2; exit 1; }
    fi
    echo "QEMU 10 for the tests: $("$dir/bin/qemu-system-x86_64" --version | head -n1)" >&2
}

_unpack_qemu10() {
    local dir=$1
    local list=/etc/apt/sources.list.d/bookworm-backports.list
    # apt gives backports priority 100: nothing installed is ever upgraded from them.
    if ! grep -qs "^[^#]*bookworm-backports" /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
        echo "deb http://deb.debian.org/debian bookworm-backports main" > "$list"
    fi
    apt-get update -qq >/dev/null || return 1
    local version
    version=$(apt-cache madison qemu-system-x86 | awk '/bookworm-backports/ { print $3; exit }')
    case "$version" in
        1:10.0.*) ;;
        *) echo "bookworm-backports has qemu-system-x86 '${version}', not 10.0" >&2; return 1 ;;
    esac
    local tmp package
    tmp=$(mktemp -d)
    chown _apt "$tmp" 2>/dev/null || true  # apt downloads as _apt where it can
    for package in $QEMU10_PACKAGES; do
        (cd "$tmp" && apt-get download -qq "$package=$version") || { rm -rf "$tmp"; return 1; }
    done
    rm -rf "$dir.new"
    mkdir -p "$dir.new/bin" || { rm -rf "$tmp"; return 1; }
    local deb
    for deb in "$tmp"/*.deb; do
        dpkg -x "$deb" "$dir.new" || { rm -rf "$tmp"; return 1; }
    done
    rm -rf "$tmp"
    local moddir module
    moddir=$(echo "$dir.new"/usr/lib/*/qemu)
    # A module whose libraries bookworm lacks (virglrenderer) would only print an error each
    # time QEMU looks for it; without it QEMU passes over it quietly, as 7.2 (which does not
    # ship that one) does.
    for module in "$moddir"/*.so; do
        if ldd "$module" | grep -q "not found"; then
            echo "QEMU 10.0: leaving out $(basename "$module") (a library is missing)" >&2
            rm -f "$module"
        fi
    done
    moddir=${moddir/#"$dir.new"/"$dir"}
    cat > "$dir.new/bin/qemu-system-x86_64" <<WRAPPER
#!/bin/sh
# QEMU $version from bookworm-backports, unpacked by qmpshell's scripts/setup.sh.
# exec, so that this process is QEMU (same PID); its own firmware and modules first.
export QEMU_MODULE_DIR=$moddir
exec $dir/usr/bin/qemu-system-x86_64 -L $dir/usr/share/qemu "\$@"
WRAPPER
    chmod 755 "$dir.new/bin/qemu-system-x86_64"
    rm -rf "$dir"
    mv "$dir.new" "$dir" || return 1
}

# use_qemu10: QEMU 10.0 first on PATH, for everything started from here on.
use_qemu10() {
    ensure_qemu10
    export PATH="$QEMU10_DIR/bin:$PATH"
}
