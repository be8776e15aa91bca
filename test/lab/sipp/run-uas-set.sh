#!/usr/bin/env bash
# The far-end UAS set of the lab in one container (docker-compose service "sipp-uas"),
# on the ports kamailio.cfg routes to by default. Exits as soon as one SIPp exits.
#   5090 uas-answer-200        5091 uas-busy-486        5092 PSAP (uas-answer-200, traced)
#   5093 uas-ring-no-answer    5094 uas-answer-then-bye
set -euo pipefail
SCENARIOS=${SCENARIOS:-/scenarios}
LOGS=${LOGS:-/var/log/sipp}
RING_MS=${RING_MS:-10}
IP=${SIPP_IP:-$(hostname -i | awk '{print $1}')}
mkdir -p "$LOGS"
cd "$LOGS"
run() { # port scenario extra-args...
  local port=$1 sf=$2; shift 2
  sipp -sf "$SCENARIOS/$sf" -i "$IP" -p "$port" -t u1 -mi "$IP" -nostdin \
       -trace_err -error_file "$LOGS/$port-errors.log" "$@" > /dev/null &
}
run 5090 uas-answer-200.xml -d "$RING_MS"
run 5091 uas-busy-486.xml
run 5092 uas-answer-200.xml -d "$RING_MS" -trace_msg -message_file "$LOGS/psap-messages.log"
run 5093 uas-ring-no-answer.xml
run 5094 uas-answer-then-bye.xml -d "$RING_MS"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT TERM INT
echo "sipp UAS set on $IP: 5090 answer, 5091 busy, 5092 psap, 5093 no-answer, 5094 answer-then-bye"
wait -n
echo "a sipp UAS exited; stopping" >&2
exit 1
