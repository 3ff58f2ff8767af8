#!/bin/sh
# Mosquitto, reloaded (SIGHUP) whenever hems rewrites its password or ACL file: hems
# replaces each file whole (a new inode), which this notices within two seconds.
# (On one host hems signals the broker itself through HEMS_MQTT_BROKER_PID_FILE; across
# containers it cannot, so the broker's container watches.)
set -u
dir="${HEMS_MQTT_DIR:-/var/lib/hems/mqtt}"
files="$dir/passwords $dir/acl"
mosquitto -c "${MOSQUITTO_CONFIG:-/mosquitto/config/mosquitto.conf}" &
pid=$!
trap 'kill -TERM $pid; wait $pid; exit 0' TERM INT
seen="$(stat -c '%i %Y' $files 2>/dev/null)"
while kill -0 "$pid" 2>/dev/null; do
  sleep 2
  now="$(stat -c '%i %Y' $files 2>/dev/null)"
  if [ "$now" != "$seen" ]; then
    kill -HUP "$pid"
    seen="$now"
  fi
done
wait "$pid"
