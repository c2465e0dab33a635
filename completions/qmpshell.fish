# fish completion for qmpshell.
# Generated from qmpshell's options by qmpshell/shellcomplete.py; do not edit.
# Regenerate it with
#   python -m qmpshell --completions fish > completions/qmpshell.fish
# Use it with
#   qmpshell --completions fish | source
# or copy it to ~/.config/fish/completions/qmpshell.fish.

# The QEMU command line follows a "--" of its own: the binary, then its arguments.
function __qmpshell_after_dashes
    contains -- -- (commandline -opc)
end

# After an @, the targets the config file names (with what each names, after a tab).
function __qmpshell_targets
    string match -q -- '@*' (commandline -ct); and qmpshell --targets 2>/dev/null
end

function __qmpshell_qemu_binary
    set -l words (commandline -opc)
    set -l dashes (contains -i -- -- $words); and test $dashes -eq (count $words)
end

complete -c qmpshell -f
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s h -l help -d 'show this help message and exit'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s H -l hmp -d 'start in HMP mode'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s p -l pretty -d 'indent JSON output in scripts'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-pretty -d 'turn off --pretty'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s v -l verbose -d 'echo each message sent before its reply'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-verbose -d 'turn off --verbose'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s N -l skip-negotiation -d 'do not send qmp_capabilities after the greeting'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s l -l logfile -r -F -d 'append a JSON Lines transcript to PATH'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l log-secrets -d 'write passwords and secrets to the transcript too'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l replay -r -F -d 'send the commands of a -l transcript again, waiting where it waited for an event, and report each reply that differs from the recorded one'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l ignore -r -f -d 'with --replay, leave this part of replies out of the comparison too'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s c -l command -r -f -d 'run LINE'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s e -l exit-on-error -d 'stop at the first failed command'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -s r -l return-value -d 'scripts'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l timeout -r -f -d 'limit for connecting, the greeting and each reply'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l reconnect -d 'when the connection is lost, wait for the monitor to come back'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l events -r -f -a 'all none' -d 'which events to show'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l color -r -f -a 'auto always never' -d 'colour replies and events'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l complete-while-typing -d 'show completion menus as you type'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-complete-while-typing -d 'turn off --complete-while-typing'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l pager -d 'page replies taller than the screen through $PAGER'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-pager -d 'turn off --pager'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l history-file -r -F -d 'keep the input history in PATH'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l history -d 'read and write an input history'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-history -d 'turn off --history'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-schema-cache -d 'read QEMU\'s schema afresh, neither reading nor writing the cache in $XDG_CACHE_HOME/qmpshell'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l launch -d 'start a throwaway QEMU'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l raw-console -d 'with a launched QEMU, pass its output'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l ga -r -F -d 'talk to a guest agent'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l libvirt -r -f -d 'talk to DOMAIN'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l connect -r -f -d 'the libvirt URI for --libvirt, e.g. qemu:///system or qemu+ssh://HOST/system'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l jobs -r -f -d 'with several targets'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l completions -r -f -a 'bash zsh fish' -d 'print the completion script for SHELL'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l config -r -F -d 'read the settings from the config file PATH'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l no-config -d 'read no config file'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l print-config -d 'print the settings in effect, and where each came from, and exit'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l targets -d 'print the config file\'s named targets'
complete -c qmpshell -n 'not __qmpshell_after_dashes' -l version -d 'print the version and exit'
# ADDRESS: a UNIX socket
complete -c qmpshell -n 'not __qmpshell_after_dashes' -F
complete -c qmpshell -n 'not __qmpshell_after_dashes' -f -a '(__qmpshell_targets)'
complete -c qmpshell -n __qmpshell_qemu_binary -x -a '(__fish_complete_command)'
complete -c qmpshell -n '__qmpshell_after_dashes; and not __qmpshell_qemu_binary' -F
