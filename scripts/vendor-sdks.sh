#!/bin/sh
# The vendors' device SDKs for the tests, each in its own virtualenv: ThingsBoard's needs its paho fork
# (tb-paho-mqtt-client), LinkKit needs paho-mqtt 1.x; neither can share the platform's paho-mqtt 2.2.
# The pins are pyproject's optional dependencies vendor-sdk-tb and vendor-sdk-linkkit.
set -e
PYTHON=${PYTHON:-python3.11}
for sdk in tb linkkit; do
    pins=$($PYTHON -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['vendor-sdk-$sdk']))")
    [ -x .venv-sdk-$sdk/bin/python ] || $PYTHON -m venv .venv-sdk-$sdk
    .venv-sdk-$sdk/bin/pip install --quiet $pins
done
