# bash completion for cdrift                                   -*- shell-script -*-
#
# Installed as share/bash-completion/completions/cdrift; or source it from ~/.bashrc.
# Works with or without the bash-completion package. Keep the option lists in step
# with src/cli/options.cpp (tests/e2e/test_docs.py compares them with `cdrift CMD --help`).

_cdrift_source_prefixes="oci: oci-archive: docker-archive: rootfs: tar: dir: manifest: docker: podman: nerdctl: containerd:"

# Options that take a value (the next word, or after '=').
_cdrift_takes_value() {
  case $1 in
    --image | --container | --runtime-path | --runtime-timeout | --inspect | --platform | --rules | \
      --disable-rule | --ignore | \
      --containerd-address | --namespace | --runtime | --format | --output-json | --output-sarif | --output-text | --fail-on | \
      --min-severity | --color | --baseline | --ignore-file | -o | --output)
      return 0
      ;;
  esac
  return 1
}

# Files and directories below the word, directories with a trailing slash.
_cdrift_files() {
  local cur=$1 prefix=$2 f
  local IFS=$'\n'
  for f in $(compgen -f -- "$cur"); do
    if [[ -d $f ]]; then
      _cdrift_cands+=("$prefix$f/")
    else
      _cdrift_cands+=("$prefix$f")
    fi
  done
}

# Names of the runtime's containers, only when the runtime is installed; a daemon
# that does not answer costs at most two seconds.
_cdrift_container_names() {
  local rt=$1 cur=$2 name
  command -v "$rt" >/dev/null 2>&1 || return 0
  command -v timeout >/dev/null 2>&1 || return 0
  local IFS=$'\n'
  for name in $(timeout 2 "$rt" ps --format '{{.Names}}' 2>/dev/null </dev/null); do
    [[ $rt:$name == "$cur"* ]] && _cdrift_cands+=("$rt:$name")
  done
}

# An image or container source: a prefixed form, or a file or directory.
_cdrift_sources() {
  local cur=$1 p
  case $cur in
    docker:* | podman:*)
      _cdrift_container_names "${cur%%:*}" "$cur"
      return
      ;;
    nerdctl:* | containerd:*) return ;;
    oci:* | oci-archive:* | docker-archive:* | rootfs:* | tar:* | dir:* | manifest:*)
      _cdrift_files "${cur#*:}" "${cur%%:*}:"
      return
      ;;
  esac
  for p in $_cdrift_source_prefixes; do
    [[ $p == "$cur"* ]] && _cdrift_cands+=("$p")
  done
  _cdrift_files "$cur" ""
}

_cdrift_rule_ids() {
  local cdrift=$1 cur=$2 id
  command -v "$cdrift" >/dev/null 2>&1 || return 0
  local IFS=$'\n'
  for id in $(timeout 2 "$cdrift" rules list 2>/dev/null </dev/null | awk 'NR > 1 { print $1 }'); do
    [[ $id == "$cur"* ]] && _cdrift_cands+=("$id")
  done
}

# Candidates for the value of option $1 in command $2.
_cdrift_values() {
  local opt=$1 cmd=$2 cur=$3 cdrift=$4 v vals=""
  case $opt in
    --image | --container) _cdrift_sources "$cur"; return ;;
    --format)
      case $cmd in
        manifest) vals="jsonl mtree" ;;
        diff) vals="text json" ;;
        *) vals="text json sarif jsonl" ;;
      esac
      ;;
    --fail-on) vals="critical high medium low info never" ;;
    --min-severity) vals="critical high medium low info" ;;
    --color) vals="auto always never" ;;
    --runtime) vals="docker podman nerdctl containerd" ;;
    --via) vals="auto layer export" ;;
    --runtime-timeout) vals="60 600 3600" ;;
    --disable-rule) _cdrift_rule_ids "$cdrift" "$cur"; return ;;
    --platform) vals="linux/amd64 linux/arm64 linux/arm/v7 linux/386 linux/ppc64le linux/s390x" ;;
    --runtime-path)
      local IFS=$'\n'
      _cdrift_cands+=($(compgen -c -- "$cur"))
      _cdrift_files "$cur" ""
      return
      ;;
    *) _cdrift_files "$cur" ""; return ;; # -o, --output*, --baseline, --ignore-file, --rules, --ignore
  esac
  for v in $vals; do
    [[ $v == "$cur"* ]] && _cdrift_cands+=("$v")
  done
}

_cdrift_options() {
  local cmd=$1 sub=$2
  case $cmd in
    "") echo "-h --help --version" ;;
    manifest) echo "-h --help --format -o --output --platform" ;;
    audit)
      echo "-h --help --image --container --runtime-path --runtime-timeout --via --inspect --containerd-address --no-cache --platform"
      echo "--rules --disable-rule --ignore --all --runtime --namespace --format --output-json --output-sarif --output-text --fail-on"
      echo "--min-severity --color --baseline --ignore-file --show-touched -q --quiet --timestamp"
      ;;
    diff) echo "-h --help --format --color --platform --show-touched" ;;
    baseline)
      echo "-h --help --image --container --runtime-path --runtime-timeout --via --inspect --containerd-address --no-cache --platform"
      echo "--rules --disable-rule --ignore -o --output"
      ;;
    rules) [[ $sub == list ]] && echo "-h --help --rules" || echo "-h --help" ;;
    cache) echo "-h --help" ;;
  esac
}

_cdrift() {
  # Split the line ourselves: bash splits words at ':' and '=', which would tear
  # `docker:web` and `--format=json` apart.
  local line=${COMP_LINE:0:COMP_POINT}
  local -a w
  read -ra w <<<"$line"
  if [[ ${#w[@]} -eq 0 || $line == *[[:space:]] ]]; then
    w+=("")
  fi
  local n=$((${#w[@]} - 1))
  local cur=${w[n]} prev=""
  ((n > 0)) && prev=${w[n - 1]}
  local cdrift=${w[0]:-cdrift}

  local cmd="" sub="" positional=0 skip=0 i
  for ((i = 1; i < n; i++)); do
    if ((skip)); then
      skip=0
      continue
    fi
    case ${w[i]} in
      --*=*) ;;
      -*) _cdrift_takes_value "${w[i]}" && skip=1 ;;
      *)
        if [[ -z $cmd ]]; then
          cmd=${w[i]}
        elif [[ ($cmd == rules || $cmd == cache) && -z $sub ]]; then
          sub=${w[i]}
        else
          positional=$((positional + 1))
        fi
        ;;
    esac
  done

  local -a _cdrift_cands=()
  local opt=""
  if [[ $cur == --*=* ]]; then
    opt=${cur%%=*}
    _cdrift_takes_value "$opt" && _cdrift_values "$opt" "$cmd" "${cur#*=}" "$cdrift"
    for ((i = 0; i < ${#_cdrift_cands[@]}; i++)); do
      _cdrift_cands[i]="$opt=${_cdrift_cands[i]}"
    done
  elif ((skip)); then # the word before is an option that takes this word as its value
    _cdrift_values "$prev" "$cmd" "$cur" "$cdrift"
  elif [[ $cur == -* ]]; then
    local o
    for o in $(_cdrift_options "$cmd" "$sub"); do
      [[ $o == "$cur"* ]] && _cdrift_cands+=("$o")
    done
  else
    local words=""
    case $cmd in
      "") words="manifest audit diff baseline rules cache" ;;
      rules) [[ -z $sub ]] && words="list lint test" ;;
      cache) [[ -z $sub ]] && words="prune" ;;
    esac
    if [[ -n $words ]]; then
      local c
      for c in $words; do
        [[ $c == "$cur"* ]] && _cdrift_cands+=("$c")
      done
    else
      case $cmd in
        manifest) ((positional < 1)) && _cdrift_sources "$cur" ;;
        diff) ((positional < 2)) && _cdrift_sources "$cur" ;;
        rules) [[ $sub == lint || $sub == test ]] && ((positional < 1)) && _cdrift_files "$cur" "" ;;
      esac
    fi
  fi

  # Bash replaces only the part of the word after its last ':' or '=' (both are in
  # COMP_WORDBREAKS by default): hand back candidates without that part.
  local strip="" breaks=""
  [[ $COMP_WORDBREAKS == *:* ]] && breaks+=":"
  [[ $COMP_WORDBREAKS == *=* ]] && breaks+="="
  if [[ -n $breaks && $cur == *["$breaks"]* ]]; then
    strip=${cur%"${cur##*["$breaks"]}"}
  fi
  COMPREPLY=()
  local c
  for c in "${_cdrift_cands[@]}"; do
    COMPREPLY+=("${c#"$strip"}")
  done
  # A source prefix or a directory is not finished yet: no space after it.
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[:/=] ]] && type compopt >/dev/null 2>&1; then
    compopt -o nospace
  fi
  return 0
}

complete -F _cdrift cdrift
