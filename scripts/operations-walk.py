"""docs/operations.md's walk as bash scripts, for scripts/fresh-root-test.sh --walk.

    python3 scripts/operations-walk.py docs/operations.md network > walk-network.sh   # step 1 (apt, clone, make install)
    python3 scripts/operations-walk.py docs/operations.md local > walk-local.sh       # steps 2-10

Every line of the document's bash blocks is kept as it is, except the few that cannot run in a root
without systemd as PID 1 or without a terminal; each of those is replaced by what runs in its place
(REPLACE below, and the document says so next to each).
"""

from __future__ import annotations

import re
import sys

REPLACE = {
    "git clone REPOSITORY-URL /opt/wuxin": "git clone /root/wuxin.git /opt/wuxin",
    "systemctl daemon-reload && systemctl restart mosquitto": "(mosquitto -c /etc/wuxin/mosquitto.conf </dev/null >/var/log/mosquitto/wuxin.log 2>&1 &); sleep 2",
    "systemctl reload nginx": "nginx",
    "systemctl daemon-reload && systemctl enable --now": "systemctl enable wuxin-api wuxin-mqtt wuxin-jt808 wuxin-indicators.timer wuxin-backup.timer; start_units",
    "read -rsp 'ops-admin password: ' PASSWORD": "read -r PASSWORD < /root/walk-password  # typed at a terminal",
    "wuxin users add ops-admin --role platform_admin": "wuxin users add ops-admin --role platform_admin < /root/walk-password",
    "wuxin db backup /var/backups/wuxin/wuxin-manual.backup": "sleep 320  # the API signs a tree head every 300 s\nwuxin db backup /var/backups/wuxin/wuxin-manual.backup",
}

PRELUDE = r"""PS4='+ walk: '
trap 'echo "walk: exit $? from: $BASH_COMMAND" >&2' ERR
run_unit() { # NAME: as systemd would run it: User=wuxin, WorkingDirectory, EnvironmentFile(s), ExecStart, ExecStartPost
  local f=/etc/systemd/system/$1.service envs="" cmd post e
  for e in $(sed -n 's/^EnvironmentFile=//p' "$f"); do envs="$envs . $e;"; done
  cmd=$(sed -n 's/^ExecStart=//p' "$f" | sed 's/\$\$/$/g; s/%%/%/g')
  post=$(sed -n 's/^ExecStartPost=//p' "$f")
  runuser -u wuxin -- sh -c "cd /var/lib/wuxin; set -a; $envs set +a; exec $cmd" && { [ -z "$post" ] || runuser -u wuxin -- sh -c "$post"; }
}
start_units() { # the three services in the background, then each timer's job once
  (run_unit wuxin-api </dev/null >/var/log/wuxin-api.log 2>&1 &)
  (run_unit wuxin-mqtt </dev/null >/var/log/wuxin-mqtt.log 2>&1 &)
  (run_unit wuxin-jt808 </dev/null >/var/log/wuxin-jt808.log 2>&1 &)
  for _ in $(seq 60); do curl -s -o /dev/null http://127.0.0.1:8000/health && break; sleep 1; done
  run_unit wuxin-indicators; run_unit wuxin-backup; ls -l /var/backups/wuxin
}
set -x
"""


def blocks(doc: str) -> list[str]:
    walk = doc[doc.index("## From a bare Debian 12 host") : doc.index("## How this walk was verified")]
    return re.findall(r"```bash\n(.*?)```", walk, re.S)


def substituted(block: str) -> str:
    lines = []
    for line in block.splitlines():
        for start, instead in REPLACE.items():
            if line.startswith(start):
                line = instead
                break
        lines.append(line)
    return "\n".join(lines)


def main(path: str, part: str) -> None:
    found = blocks(open(path, encoding="utf-8").read())
    chosen = found[:1] if part == "network" else found[1:]
    print(("set -x\n" if part == "network" else PRELUDE) + "\n".join(substituted(b) for b in chosen))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
