#!/bin/sh
# The load test (tests/load/run.py): wrk against the API while a DCGAN run trains.
#   tests/load/run.sh                  the CI version, about a minute
#   LOAD_SECONDS=300 tests/load/run.sh the long one: five minutes of load
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/load/run.py "$@"
