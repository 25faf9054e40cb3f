# SPDX-License-Identifier: LGPL-2.1-only
# bash completion for xenfit(1): commands, their flags, and the values of the
# flags that take one of a few words. Installed as
# share/bash-completion/completions/xenfit; tests/cli/test-completion.sh
# checks it against the commands and flags `xenfit --help` and
# `xenfit COMMAND --help` list.

_xenfit_commands="footprint calibrate admit sim plan pool host status reserve reservations calibration release transfer top domains events explain xl-create report-build help"
_xenfit_vm_flags="--type --static-max --target --vcpus --video --shadow-multiplier --memory-total-source --xl-config"
_xenfit_daemon_flags="--socket --json"

# The flags of one command (one line per command keeps them easy to compare
# with the command's --help).
_xenfit_flags() {
  case $1 in
    footprint) echo "$_xenfit_vm_flags --fixed-pages --per-vcpu-pages --json --bytes" ;;
    calibrate) echo "--json" ;;
    admit) echo "--backend --host --socket $_xenfit_vm_flags --policy --numa-policy --hard-affinity --json --bytes" ;;
    sim) echo "--policy --seed --json --verbose" ;;
    plan) echo "--topology --vm --xl-config --policy --mode --json" ;;
    pool) echo "--pool --failures --shard --compare --verify --json" ;;
    host) echo "--host --backend --json" ;;
    status | reservations) echo "$_xenfit_daemon_flags --bytes" ;;
    calibration) echo "$_xenfit_daemon_flags" ;;
    reserve) echo "--kib $_xenfit_vm_flags --hard-affinity --session $_xenfit_daemon_flags --bytes" ;;
    release) echo "--session $_xenfit_daemon_flags" ;;
    transfer) echo "--session $_xenfit_daemon_flags --bytes" ;;
    top) echo "--socket --once" ;;
    domains) echo "--backend --host --json --node-pages --xl" ;;
    events | explain) echo "$_xenfit_daemon_flags" ;;
    xl-create) echo "--backend --host --local --session --socket --xl --xl-conf" ;;
    report-build) echo "--domid --errno --json --message --name --outcome --reservation --session --socket --taken-kib" ;;
  esac
}

_xenfit() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd=${COMP_WORDS[1]}
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "$_xenfit_commands --help --version" -- "$cur")
    return
  fi
  # The values of flags that take one.
  case $prev in
    --type) mapfile -t COMPREPLY < <(compgen -W "hvm pvh pv pv_in_pvh" -- "$cur"); return ;;
    --backend) mapfile -t COMPREPLY < <(compgen -W "sim xen" -- "$cur"); return ;;
    --mode) mapfile -t COMPREPLY < <(compgen -W "xenfit xenopsd" -- "$cur"); return ;;
    --numa-policy) mapfile -t COMPREPLY < <(compgen -W "best_effort best_effort_hard prio_mem_only any" -- "$cur"); return ;;
    --policy)
      case $cmd in
        plan) mapfile -t COMPREPLY < <(compgen -W "any best_effort best_effort_hard prio_mem_only" -- "$cur") ;;
        sim) mapfile -t COMPREPLY < <(compgen -W "xapi-pre-6869 xapi-6869 xapi-2026.02 xenfit all" -- "$cur") ;;
        *) mapfile -t COMPREPLY < <(compgen -W "xenfit xapi-2026.02 xapi-6869 xapi-pre-6869" -- "$cur") ;;
      esac
      return
      ;;
    --host | --topology | --socket | --pool)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return
      ;;
    --static-max | --target | --video | --memory-total-source | --vcpus | --kib | --seed | \
      --shadow-multiplier | --fixed-pages | --per-vcpu-pages | --vm | --session | --failures | --shard)
      return
      ;;
  esac
  if [ "$cmd" = help ]; then
    [ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "${_xenfit_commands% help}" -- "$cur")
    return
  fi
  # Sub-commands: host show, sim run, pool place|evacuate|ha, calibration show|reset TYPE|all.
  if [ "$COMP_CWORD" -eq 2 ]; then
    case $cmd in
      host) mapfile -t COMPREPLY < <(compgen -W "show" -- "$cur"); return ;;
      sim) mapfile -t COMPREPLY < <(compgen -W "run" -- "$cur"); return ;;
      pool) [[ $cur != -* ]] && { mapfile -t COMPREPLY < <(compgen -W "place evacuate ha" -- "$cur"); return; } ;;
      calibration) [[ $cur != -* ]] && { mapfile -t COMPREPLY < <(compgen -W "show reset" -- "$cur"); return; } ;;
    esac
  fi
  if [ "$cmd" = calibration ] && [ "$prev" = reset ]; then
    mapfile -t COMPREPLY < <(compgen -W "hvm pvh pv pv_in_pvh all" -- "$cur")
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_xenfit_flags "$cmd") --help" -- "$cur")
    return
  fi
  # Operands that are files: calibrate's CSV, sim run's scenario.
  case $cmd in
    calibrate | sim) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
  esac
}
complete -o filenames -F _xenfit xenfit
