"""Build president.csv for kr2022 from the 여론M (MBC) poll table as scraped, with NESDC metadata,
in GitHub pakchank/poll_selective (nesdc_scraped.csv, commit 87f7484e2093).

Usage (any Python with pandas and numpy), from the kr2022 folder:
    python scripts/build_polls.py [NESDC_SCRAPED_CSV]
Without an argument the file is read with `git show` from a clone of the repository whose path
is the environment variable POLL_SELECTIVE_REPO (default ./poll_selective). Writes president.csv only (the source file itself is
not copied here)."""
import ast
import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent.parent
MIRROR = os.environ.get("POLL_SELECTIVE_REPO", "poll_selective")
COMMIT = "87f7484e20938235b9bf86a92166b41ab0b14374"
CAMPAIGN_START = "2021-11-05"   # Yoon nominated by the PPP: from here all four candidates are set
LAST6W_FROM = "2022-01-20"      # 6 weeks before the blackout that began on 2022-03-03
MAX_ROWS = 250

FIRMS = {
    "PNR-(주)피플네트웍스": "PNR",
    "(주)리얼미터": "Realmeter",
    "케이에스오아이주식회사(한국사회여론연구소)": "KSOI",
    "여론조사공정(주)": "Gongjeong",
    "(주)한국갤럽조사연구소": "Gallup Korea",
    "한국갤럽조사연구소": "Gallup Korea",
    "(주)엠브레인퍼블릭": "Embrain Public",
    "엠브레인퍼블릭": "Embrain Public",
    "조원씨앤아이": "Jowon C&I",
    "(주)한국리서치": "Hankook Research",
    "미디어토마토": "Media Tomato",
    "(주)리서치뷰": "Research View",
    "서던포스트": "Southern Post",
    "한길리서치": "Hangil Research",
    "칸타코리아(칸타퍼블릭)": "Kantar Korea",
    "(주)글로벌리서치": "Global Research",
    "미디어리서치": "Media Research",
    "넥스트리서치": "Next Research",
    "(주)알앤써치": "RNSearch",
    "(주)코리아정보리서치중부본부": "Korea Information Research",
    "(주)코리아정보리서치": "Korea Information Research",
    "(주)코리아리서치인터내셔널": "Korea Research International",
    "(주)코리아리서치인터네셔널": "Korea Research International",
    "코리아리서치": "Korea Research International",
    "(주)리서치앤리서치": "Research & Research",
    "(주)아시아리서치앤컨설팅": "Asia Research & Consulting",
    "미디어리얼리서치코리아": "Media Real Research Korea",
    "입소스주식회사": "Ipsos Korea",
    "케이스탯리서치": "Kstat Research",
    "케이스텟리서치": "Kstat Research",
    "(주)에이스리서치": "Ace Research",
    "윈지코리아컨설팅": "Winji Korea Consulting",
    "모노커뮤니케이션즈(모노리서치)": "Mono Research",
    "(주)이너텍시스템즈": "Innertech Systems",
    "리서치퍼스트": "Research First",
    "(주)에스티아이": "STI",
    "데일리리서치": "Daily Research",
    "에스티리서치": "ST Research",
    "(주)디오피니언": "The Opinion",
}


def pollster(firms: str, sponsor: str) -> str:
    if "엠브레인퍼블릭, 케이스탯리서치" in sponsor and sponsor.startswith("조사기관 자체"):
        return "NBS (Embrain Public/Kstat/KRI/Hankook Research)"
    if "KBS, MBC, SBS" in sponsor:
        return "KBS-MBC-SBS (Hankook Research/Ipsos/KRI)"
    names = [FIRMS[f.strip()] for f in firms.split(",") if f.strip()]
    out = []
    for n in names:
        if n not in out:
            out.append(n)
    return " / ".join(out)


def mode(methods: str) -> str:
    kinds = set()
    for name, _share in ast.literal_eval(methods):
        if "ARS" in name:
            kinds.add("ivr")
        elif "전화면접" in name:
            kinds.add("phone")
        elif "인터넷" in name or "스마트폰" in name:
            kinds.add("online")
        else:
            raise ValueError(name)
    return kinds.pop() if len(kinds) == 1 else "mixed"


def main() -> None:
    if len(sys.argv) > 1:
        text = Path(sys.argv[1]).read_text(encoding="utf-8")
    else:
        text = subprocess.run(["git", "-C", MIRROR, "show", f"{COMMIT}:nesdc_scraped.csv"],
                              check=True, capture_output=True).stdout.decode("utf-8")
    df = pd.read_csv(io.StringIO(text), index_col=0, dtype=str)
    df["field_start"] = df["날짜"].str.split(" ~ ").str[0]
    df["field_end"] = df["날짜"].str.split(" ~ ").str[1]
    four = (df[["이재명", "윤석열", "안철수", "심상정"]] != "-").all(axis=1)
    f = df[four & (df["field_start"] >= CAMPAIGN_START)].copy()
    assert f["등록번호"].is_unique  # one four-way question per registered poll
    f["published"] = f["공표일시"].str.extract(r"(\d{4}-\d{2}-\d{2})")[0]
    f["pollster"] = [pollster(a, b) for a, b in zip(f["선거여론조사기관"], f["조사의뢰자"])]
    f["mode"] = f["조사방법new"].map(mode)
    f["undecided"] = f["없음"].replace("-", "")
    f["nttId"] = f["조사기관"].str.extract(r"nttId=(\d+)")[0]
    f = f.sort_values(["field_end", "field_start", "published", "등록번호"], kind="stable")
    # The same poll registered twice (same firm, sponsor, dates, sample and four shares; only the
    # publication date differs): keep the first publication.
    same = ["pollster", "조사의뢰자", "field_start", "field_end", "표본크기", "이재명", "윤석열", "안철수", "심상정"]
    twice = f.duplicated(same, keep="first")
    print("dropped as re-registrations:", f.loc[twice, ["pollster", "field_start", "등록번호"]].values.tolist())
    f = f[~twice].reset_index(drop=True)

    recent = f[f["field_end"] >= LAST6W_FROM]
    early = f[f["field_end"] < LAST6W_FROM]
    n_keep = MAX_ROWS - len(recent)
    keep_idx = np.unique(np.round(np.linspace(0, len(early) - 1, n_keep)).astype(int))
    assert len(keep_idx) == n_keep
    kept = pd.concat([early.iloc[keep_idx], recent])

    rows = []
    for _, r in kept.iterrows():
        sponsor = re.sub(r"\s+", " ", r["조사의뢰자"]).strip()
        src = (f"여론M 2022 presidential poll table (poll-mbc.co.kr/bk/2022_president.html) as scraped in "
               f"GitHub pakchank/poll_selective nesdc_scraped.csv @{COMMIT[:12]}, ID {r['ID']}; "
               f"NESDC registration {r['등록번호']} (nesdc.go.kr/portal/bbs/B0000005/view.do?nttId={r['nttId']}); "
               f"sponsor: {sponsor}")
        rows.append({
            "pollster": r["pollster"], "field_start": r["field_start"], "field_end": r["field_end"],
            "published": r["published"], "sample_size": r["표본크기"], "mode": r["mode"],
            "basis": "raw", "partial": "1",
            "lee": r["이재명"], "yoon": r["윤석열"], "sim": r["심상정"], "ahn": r["안철수"],
            "other": "", "undecided": r["undecided"], "source": src,
            "poll_id": "", "tolerance": "", "_reg": r["등록번호"],
        })
    out = pd.DataFrame(rows)
    dup = out.duplicated(["pollster", "field_start", "field_end"], keep=False)
    out.loc[dup, "poll_id"] = "nesdc" + out.loc[dup, "_reg"]
    out = out.drop(columns="_reg")
    out.to_csv(HERE / "president.csv", index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    print(len(f), "four-way polls;", len(recent), "recent kept all;", len(early), "early ->", n_keep,
          "; duplicates needing poll_id:", int(dup.sum()))


if __name__ == "__main__":
    main()
