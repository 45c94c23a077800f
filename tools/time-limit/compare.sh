#!/usr/bin/env bash
# Dendrites on against off under Edge Impulse's time limit, with the block's full argument list: every
# parameters.json parameter at its default (booleans as 1/0, as Edge Impulse passes them), --info-file
# (a train_input.json with maxTrainingTimeSeconds), and the legacy --validation-set-size/--input-shape.
#
#   tools/time-limit/compare.sh DATA_DIR OUT_DIR SECONDS "WIDTHS" "SEEDS"
#   e.g. tools/time-limit/compare.sh /tmp/fsdd /tmp/l40 40 "1 6" "0 1 2"
#
# DATA_DIR is an Edge Impulse data directory; its train_input.json is written here (classes 0..9 unless
# one exists, whose fields are kept) with the limit. Each (width, seed) trains with --dendrites 0 then 1
# into OUT_DIR/w<W>-s<S>-d<D> (report.json there; the log beside it).
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: tools/time-limit/compare.sh DATA_DIR OUT_DIR SECONDS \"WIDTHS\" \"SEEDS\"" >&2; exit 2; }
DATA="$1"; OUT="$2"; LIMIT="$3"; WIDTHS="$4"; SEEDS="$5"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$OUT"
INFO="$OUT/train_input.json"
python3 - "$DATA" "$INFO" "$LIMIT" <<'PY'
import json, os, sys
data, info, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = os.path.join(data, 'train_input.json')
d = json.load(open(src)) if os.path.exists(src) else {'classes': [str(i) for i in range(10)], 'mode': 'classification'}
d['maxTrainingTimeSeconds'] = limit
json.dump(d, open(info, 'w'))
PY
mapfile -t ARGS < <(python3 - "$REPO/parameters.json" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))['parameters']:
    if p['param'] in ('width', 'seed', 'dendrites'):
        continue
    v = p['value']
    if p['type'] == 'flag':
        if v:
            print('--' + p['param'])
    elif p['type'] == 'boolean':
        print('--' + p['param']); print('1' if v else '0')
    else:
        print('--' + p['param']); print(v)
PY
)
SHAPE=$(python3 -c "import numpy as np,sys; s=np.load(sys.argv[1], mmap_mode='r').shape[1:]; print('(' + ', '.join(map(str, s)) + (',)' if len(s) == 1 else ')'))" "$DATA/X_split_train.npy")
for w in $WIDTHS; do for s in $SEEDS; do for d in 0 1; do
  o="$OUT/w$w-s$s-d$d"
  node "$REPO/dist/cli.js" train --data-directory "$DATA" --out-directory "$o" --info-file "$INFO" "${ARGS[@]}" \
    --width "$w" --seed "$s" --dendrites "$d" --validation-set-size 0.2 --input-shape "$SHAPE" > "$o.log" 2>&1
  echo "w$w s$s dendrites $d: $(grep -E '^done' "$o.log" | cut -c1-80)"
done; done; done
