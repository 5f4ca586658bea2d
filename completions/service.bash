# bash completion for service(8) (merit). Generated from the command table; do not edit.
_merit_service() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmds='list enable disable start stop status restart reload resup unsup logs needs needed-by graph'
    local named=' enable disable start stop status restart reload resup unsup logs needs needed-by '
    local nameless=' list graph '
    local opts='--root --scan-dir --available-dir --enabled-dir --timeout --json --no-deps --no-color --help --no-colour'
    COMPREPLY=()
    case $prev in
        --root|--scan-dir|--available-dir|--enabled-dir) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
        --timeout) return 0 ;;
    esac
    local i w v pass=() pos=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --root|--scan-dir|--available-dir|--enabled-dir)
                v=${COMP_WORDS[i+1]}
                [[ $v == '~'* ]] && v=$HOME${v:1}
                pass+=("$w" "$v"); ((i++)) ;;
            --root=*|--scan-dir=*|--available-dir=*|--enabled-dir=*) pass+=("$w") ;;
            --timeout) ((i++)) ;;
            -*) ;;
            *) pos+=("$w") ;;
        esac
    done
    if [[ $cur == -* && ${#pos[@]} -lt 2 ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return 0
    fi
    local names
    case ${#pos[@]} in
        0)
            names=$("${COMP_WORDS[0]}" "${pass[@]}" --list-names 2>/dev/null)
            COMPREPLY=($(compgen -W "$cmds $names" -- "$cur")) ;;
        1)
            if [[ $named == *" ${pos[0]} "* ]]; then
                names=$("${COMP_WORDS[0]}" "${pass[@]}" --list-names 2>/dev/null)
                COMPREPLY=($(compgen -W "$names" -- "$cur"))
            elif [[ $nameless != *" ${pos[0]} "* ]]; then
                COMPREPLY=($(compgen -W "$named" -- "$cur"))
            fi ;;
        *)
            if [[ " ${pos[*]} " == *' logs '* ]]; then
                COMPREPLY=($(compgen -W '-f -n' -- "$cur"))
            fi ;;
    esac
    return 0
}
complete -F _merit_service service
