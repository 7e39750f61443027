"""Election-day polling error in South Korean presidential elections (method of
docs/polling-error.md): equal-weight average of each house's final pre-blackout poll vs the
official NEC count, in points (both sides as shares of the K compared candidates) and as centred
log-ratios; pooled df-corrected sigma = sqrt(sum c^2 / sum (K-1)). Numbers are typed in from the
sources listed in polling_error.md."""
import numpy as np
import pandas as pd

E = {
    2007: dict(
        cands=["Lee Myung-bak", "Chung Dong-young", "Lee Hoi-chang", "Moon Kook-hyun", "Kwon Young-ghil", "Lee In-je"],
        result=[11492389, 6174681, 3559963, 1375498, 712121, 160708],
        polls={
            "KRC / Dong-A Ilbo (12 Dec)": [40.2, 15.1, 12.4, 7.1, 2.5, 0.7],
            "Gallup Korea / Chosun Ilbo (12 Dec)": [45.4, 17.5, 13.6, 6.7, 3.9, 0.9],
            "TNS Korea / JoongAng-SBS (11-12 Dec)": [44.7, 15.7, 13.1, 5.9, 3.1, 0.8],
        }),
    2012: dict(
        cands=["Park Geun-hye", "Moon Jae-in"],
        result=[15773128, 14692632],
        polls={
            "Realmeter / JTBC (11-12 Dec)": [48.0, 47.5],
            "Media Research / KBS (11-12 Dec)": [44.9, 41.4],
            "Korea Research / Munhwa Ilbo (11 Dec)": [42.8, 41.9],
            "TNS / SBS (10-12 Dec)": [48.9, 42.1],
            "JoongAng Ilbo research team (11-12 Dec)": [48.0, 41.2],
            "Hankook Research / Hankook Ilbo (12 Dec)": [44.9, 45.3],
            "Mono Research (11 Dec)": [47.4, 45.1],
            "Hangil Research / MBN-Maeil (last, publ. 12 Dec)": [45.4, 42.0],
        }),
    2017: dict(
        cands=["Moon Jae-in", "Hong Joon-pyo", "Ahn Cheol-soo", "Yoo Seong-min", "Sim Sang-jung"],
        result=[13423800, 7852849, 6998342, 2208771, 2017458],
        polls={
            "Gallup Korea (1-2 May)": [38, 16, 20, 6, 8],
            "Research Plus / Hankyoreh (1-2 May)": [39.7, 13.7, 18.9, 4.6, 5.6],
            "Kantar Public / Chosun Ilbo (1-2 May)": [38.5, 16.8, 15.7, 3.8, 6.8],
            "Realmeter / CBS (1-2 May)": [42.4, 18.6, 18.6, 4.9, 7.3],
            "Research & Research / Dong-A-Channel A (1-2 May)": [40.2, 17.7, 19.9, 5.7, 8.1],
        }),
}


def clr(poll, res):
    lr = np.log(np.asarray(poll) / np.asarray(res))
    return lr - lr.mean()


def analyse(year, d, out):
    res = np.array(d["result"], float)
    res_sh = 100 * res / res.sum()
    polls = np.array(list(d["polls"].values()), float)
    avg_raw = polls.mean(axis=0)
    avg = 100 * avg_raw / avg_raw.sum()
    c = clr(avg, res_sh)
    rows = []
    for k, name in enumerate(d["cands"]):
        rows.append([year, name, round(avg_raw[k], 2), round(avg[k], 2), round(res_sh[k], 2),
                     round(avg[k] - res_sh[k], 2), round(c[k], 3)])
    out.extend(rows)
    K = len(res)
    return dict(year=year, K=K, n_polls=len(polls), ss=float((c ** 2).sum()),
                naive=float(np.sqrt((c ** 2).mean())), sigma=float(np.sqrt((c ** 2).sum() / (K - 1))),
                lead_poll=float(avg[0] - avg[1]), lead_res=float(res_sh[0] - res_sh[1]))


def kr2022(out):
    """Out-of-sample check on 2022 itself: last poll of each house with fieldwork ending
    28 Feb-2 Mar (president.csv), Lee/Yoon/Sim (Ahn withdrew after the blackout began)."""
    d = pd.read_csv(__file__.replace("scripts/polling_error.py", "president.csv"))
    d = d[d.field_end >= "2022-02-28"].sort_values(["field_end", "field_start"])
    last = d.groupby("pollster").tail(1)
    cands = ["lee", "yoon", "sim"]
    res = np.array([16147738, 16394815, 803358], float)
    res_sh = 100 * res / res.sum()
    avg_raw = last[cands].mean().values
    avg = 100 * avg_raw / avg_raw.sum()
    c = clr(avg, res_sh)
    for k, name in enumerate(["Lee Jae-myung", "Yoon Suk-yeol", "Sim Sang-jung"]):
        out.append([2022, name, round(avg_raw[k], 2), round(avg[k], 2), round(res_sh[k], 2),
                    round(avg[k] - res_sh[k], 2), round(c[k], 3)])
    ahn = last["ahn"].mean()
    return dict(year=2022, K=3, n_polls=len(last), ss=float((c ** 2).sum()),
                naive=float(np.sqrt((c ** 2).mean())), sigma=float(np.sqrt((c ** 2).sum() / 2)),
                lead_poll=float(avg[0] - avg[1]), lead_res=float(res_sh[0] - res_sh[1]), ahn=ahn,
                houses=sorted(last.pollster))


def main():
    out, summ = [], []
    for y, d in E.items():
        summ.append(analyse(y, d, out))
    ss = sum(s["ss"] for s in summ)
    df = sum(s["K"] - 1 for s in summ)
    n = sum(s["K"] for s in summ)
    table = pd.DataFrame(out, columns=["year", "candidate", "poll_avg_raw", "poll_avg_pct_of_K",
                                       "result_pct_of_K", "error_pts", "clr"])
    print(table.to_string(index=False))
    for s in summ:
        print(s)
    print(f"pooled 2007+2012+2017: {n} values, {df} df, sigma_hat = {np.sqrt(ss / df):.3f}, "
          f"naive RMS = {np.sqrt(ss / n):.3f}")
    from scipy.stats import chi2
    lo, hi = np.sqrt(ss / chi2.ppf(0.975, df)), np.sqrt(ss / chi2.ppf(0.025, df))
    print(f"chi2 95% interval: {lo:.3f}-{hi:.3f}")
    # leave one out
    for s in summ:
        print("without", s["year"], round(np.sqrt((ss - s["ss"]) / (df - s["K"] + 1)), 3))
    # majors only (share > 15% in the result), re-centred
    ssm, dfm = 0.0, 0
    for y, d in E.items():
        res = np.array(d["result"], float); res_sh = res / res.sum()
        pol = np.array(list(d["polls"].values()), float).mean(axis=0)
        keep = res_sh > 0.15
        if keep.sum() < 2:
            continue
        c = clr(pol[keep], res_sh[keep]); ssm += (c ** 2).sum(); dfm += keep.sum() - 1
    print(f"majors only: {dfm} df, sigma_hat = {np.sqrt(ssm / dfm):.3f}")
    o = []
    s22 = kr2022(o)
    print(pd.DataFrame(o, columns=table.columns).to_string(index=False))
    print(s22)
    sumall = ss + s22["ss"]; dfall = df + 2
    print(f"with 2022 (not for the 2022 backtest): {dfall} df, sigma = {np.sqrt(sumall / dfall):.3f}")


if __name__ == "__main__":
    main()
