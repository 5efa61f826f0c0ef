# bash completion for atomix (docs/cli.md). Install as
# /usr/share/bash-completion/completions/atomix, or source it.
_atomix() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local globals="--endpoints --timeout -o --output --help --version"
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
    --endpoints|--timeout|--from|--prefix|--if-version|--wait|--session-ttl|--grace) return ;;
  esac

  # The command words typed so far, without flags and their values.
  local cmd=() i w
  for ((i = 1; i < cword; i++)); do
    w="${words[i]}"
    [[ "$w" == "--" ]] && return
    case "$w" in
      --endpoints|--timeout|-o|--output|--from|--prefix|--if-version|--wait|--session-ttl|--grace)
        ((i++)) ;;
      -*) ;;
      *) cmd+=("$w") ;;
    esac
  done

  local words_now="" n=${#cmd[@]}
  case "${cmd[0]}" in
    "") words_now="counter value map set watch lock elect status sessions locks elections snapshot" ;;
    counter) ((n == 1)) && words_now="get set inc dec cas" ;;
    value) ((n == 1)) && words_now="get set" || words_now="--if-version" ;;
    map) ((n == 1)) && words_now="get put remove list watch" || words_now="--prefix --from --if-version" ;;
    set) ((n == 1)) && words_now="add remove contains list" ;;
    watch) ((n == 1)) && words_now="counter value map set lock election" || words_now="--from --prefix" ;;
    lock) words_now="--wait --session-ttl --grace --" ;;
    elect) words_now="--observe --session-ttl --grace --" ;;
    sessions) ((n == 1)) && words_now="list" ;;
    locks|elections) ((n == 1)) && words_now="list" || words_now="--prefix" ;;
    snapshot)
      if ((n == 1)); then
        words_now="save"
      else
        COMPREPLY=($(compgen -f -- "$cur")); return
      fi ;;
  esac
  # Flags only when a dash was typed; words otherwise.
  if [[ "$cur" == -* ]]; then
    local flags="" x
    for x in $words_now; do [[ "$x" == -* ]] && flags="$flags $x"; done
    words_now="$flags $globals"
  else
    local plain="" x
    for x in $words_now; do [[ "$x" != -* ]] && plain="$plain $x"; done
    words_now="$plain"
  fi
  COMPREPLY=($(compgen -W "$words_now" -- "$cur"))
}
complete -F _atomix atomix
