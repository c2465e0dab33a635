# bash completion for qmpshell.
# Generated from qmpshell's options by qmpshell/shellcomplete.py; do not edit.
# Regenerate it with
#   python -m qmpshell --completions bash > completions/qmpshell.bash
# Use it from ~/.bashrc with
#   eval "$(qmpshell --completions bash)"
# or copy it to ~/.local/share/bash-completion/completions/qmpshell.

# Complete $cur as a path, with bash-completion's _filedir when it is loaded.
_qmpshell_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
        return
    fi
    compopt -o filenames 2>/dev/null
    local path
    while IFS= read -r path; do
        COMPREPLY+=("$path")
    done < <(compgen -f -- "$cur")
}

# Complete $cur as a path, or after an @ as a target the config file names.
_qmpshell_address() {
    [[ $cur == @* ]] || { _qmpshell_files; return; }
    local line
    while IFS= read -r line; do
        line=${line%%$'\t'*}
        [[ $line == "$cur"* ]] && COMPREPLY+=("$line")
    done < <(qmpshell --targets 2>/dev/null)
}

# Complete $cur as one of the given words.
_qmpshell_words() {
    local word
    for word in "$@"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
}

_qmpshell() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i command
    COMPREPLY=()
    # After a "--" of its own comes the QEMU command line: the binary, then its arguments.
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == -- ]] || continue
        if ((i + 1 == COMP_CWORD)) && [[ $cur != */* ]]; then
            while IFS= read -r command; do
                COMPREPLY+=("$command")
            done < <(compgen -c -- "$cur")
        else
            _qmpshell_files
        fi
        return 0
    done
    # bash splits --option=value at the "=" into three words.
    if [[ $cur == = && $prev == --* ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    case $prev in
        -l|--logfile|--replay|--history-file|--ga|--config)
            _qmpshell_files
            return 0 ;;
        --events)
            _qmpshell_words all none
            return 0 ;;
        --color)
            _qmpshell_words auto always never
            return 0 ;;
        --completions)
            _qmpshell_words bash zsh fish
            return 0 ;;
        --ignore|-c|--command|--timeout|--libvirt|--connect|--jobs)
            # a value of the user's own: nothing to offer
            return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        _qmpshell_words -h --help -H --hmp -p --pretty --no-pretty -v --verbose --no-verbose -N \
            --skip-negotiation -l --logfile --log-secrets --replay --ignore -c --command -e \
            --exit-on-error -r --return-value --timeout --reconnect --events --color \
            --complete-while-typing --no-complete-while-typing --pager --no-pager \
            --history-file --history --no-history --no-schema-cache --launch --raw-console \
            --ga --libvirt --connect --jobs --completions --config --no-config \
            --print-config --targets --version
        return 0
    fi
    # ADDRESS: a UNIX socket
    _qmpshell_address
}

complete -F _qmpshell qmpshell
