"""Build president.csv for mx2000/mx2006/mx2012 from the transcriptions in this folder and the
diegovalle/Elections-2012 CSVs (read with git show from a clone of github.com/diegovalle/Elections-2012
at DV_COMMIT, whose path is given by the environment variable ELECTIONS_2012_REPO).

    ELECTIONS_2012_REPO=path/to/Elections-2012 python polls/sources/mx-presidential/build.py
"""
import csv, io, os, subprocess, statistics, datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent.parent  # polls/
DV = os.environ.get("ELECTIONS_2012_REPO", "Elections-2012")
DV_COMMIT = "985681014cd8b637506ddbf72d680b20450b6e3e"
EFR = "GitHub efrenzagal/current-affairs-mx-elections-pres-2024 @bbc1fa07, aux_scripts/vote_intention/vote_intention_polls.csv"

def git_show(path):
    return subprocess.run(["git", "-C", DV, "show", f"{DV_COMMIT}:{path}"], capture_output=True, text=True, check=True).stdout

def fmt(x):
    if x is None or x == "":
        return ""
    if isinstance(x, str):
        return x
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s

def write(year, cands, rows):
    cols = ["pollster", "field_start", "field_end", "published", "sample_size", "mode", "basis",
            "partial", *cands, "other", "undecided", "source", "poll_id", "tolerance"]
    p = OUT / f"mx{year}" / "president.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    def key(r):
        d = r.get("field_end") or r.get("published")
        return (d, r["pollster"])
    rows = sorted(rows, key=key)
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: fmt(r.get(c, "")) for c in cols})
    return rows

def num(s):
    s = s.strip()
    if s in ("", "-", "?", "ND", "NA", "Not shown"):
        return None
    return float(s)

def parse_pipe(path):
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.append(line.split("|"))
    return out

def total(r, cands):
    t = sum(r[c] for c in cands if r.get(c) not in (None, ""))
    for k in ("other", "undecided"):
        if r.get(k) not in (None, ""):
            t += r[k]
    return t

# ------------------------------------------------------------------ 2000
def build_2000():
    cands = ["fox", "labastida", "cardenas", "rincon", "camacho", "munoz_ledo"]
    rows = []
    seen = {}
    raw = parse_pipe(HERE / "es2000.txt")
    # pollster-month pairs that occur twice get a poll_id
    pairs = {}
    for f in raw:
        pairs.setdefault((f[2], f[4]), []).append(f[0])
    for f in raw:
        rown, praw, pol, client, date, n, fox, lab, car, otr, ref = f
        r = {"fox": num(fox), "labastida": num(lab), "cardenas": num(car), "other": num(otr)}
        name = {"Mund": "Mund", "Indemerc": "Indemerc", "GEA-ISA": "GEA-ISA", "Reforma": "Reforma",
                "El Universal": "El Universal", "CEO (UdeG)": "CEO (Universidad de Guadalajara)",
                "Pearson": "Pearson", "Milenio": "Milenio", "CEPROSEPP": "CEPROSEPP",
                "GAUSSC": "GAUSSC", "Technomgmt": "Technomgmt", "Quantum": "Quantum",
                "Zogby": "Zogby", "Alduncin y Asociados": "Alduncin y Asociados", "Arcop": "Arcop",
                "Fishers": "Fishers", "Reuters": "Reuters", "CM Político": "CM Político",
                "D. Watch": "D. Watch", "AC Nielsen": "AC Nielsen"}[pol]
        r["pollster"] = name
        src = (f"es.wikipedia 'Elecciones federales de México de 2000' (oldid 175533078), table 'Encuestas' row {int(rown)}, "
               f"via {EFR}; pollster as printed: '{praw}'")
        if client:
            src += f"; client/sponsor per table: {client}" + (" (partisan sponsor)" if client in ("PRI", "PAN") else "")
        if date.startswith("D"):
            r["published"] = date[1:]
            src += ("; the table gives only a day ('" + date[1:] + "') with no statement whether it is fieldwork or publication, "
                    "so it is entered as the publication date")
        else:
            r["field_start"] = r["field_end"] = date
            src += "; the table gives only the month"
        if ref:
            src += f"; poll ref {ref}"
        src += "; basis effective: the table's shares (Fox, Labastida, Cárdenas, Otros) add to ~100 with no undecided column"
        r["sample_size"] = int(n) if n else ""
        r["basis"] = "effective"
        r["source"] = src
        if len(pairs[(pol, date)]) > 1:
            r["poll_id"] = f"es2000-r{int(rown):03d}"
        t = total(r, cands)
        assert abs(t - 100) <= 2.5, (rown, t)
        rows.append(r)
    # Demotecnia, Dallas Morning News 21 June 2000
    rows.append({"pollster": "Demotecnia (María de las Heras)", "published": "2000-06-21", "basis": "effective",
                 "partial": 1, "fox": 44.0, "labastida": 34.0, "cardenas": 16.0,
                 "source": ("Dallas Morning News 21 Jun 2000 'Fox has big lead in presidential poll' (A. Corchado, L. Iliff), "
                            "copy at oocities.org/dmontero_trejo/Politica/FOX_has_big_lead.htm: Fox 44, Labastida 34, Cárdenas 16, "
                            "'two minor candidates got the rest' (no figure given, so partial=1); publication on Wed 21 Jun 2000 "
                            "confirmed by El País 6 Jul 2000 (elpais.com/diario/2000/07/06/internacional/962834406_850215.html); "
                            "no fieldwork dates or sample size given")})
    return write(2000, cands, rows), cands

# ------------------------------------------------------------------ 2006
def build_2006():
    cands = ["calderon", "amlo", "madrazo", "mercado", "campa"]
    rows = []
    names = {"GCE": "GCE", "El Universal": "El Universal", "Reforma": "Reforma", "BGC": "BGC Ulises Beltrán",
             "Consulta Mitofsky": "Consulta Mitofsky", "Demotecnia": "Demotecnia (María de las Heras)",
             "Parametría": "Parametría", "Zogby": "Zogby", "GEA-ISA": "GEA-ISA", "Telemundo": "Telemundo",
             "Arcop": "Arcop", "Covarrubias y Asociados": "Covarrubias y Asociados", "Ipsos-Bimsa": "Ipsos-Bimsa"}
    for f in parse_pipe(HERE / "es2006.txt"):
        rown, praw, pol, client, date, flag, cal, mad, amlo, mer, cam, otr, ind, ref = f
        r = {"pollster": names[pol],
             "calderon": num(cal), "madrazo": num(mad), "amlo": num(amlo), "mercado": num(mer), "campa": num(cam),
             "other": num(otr), "undecided": num(ind)}
        src = (f"es.wikipedia 'Elecciones federales de México de 2006' (oldid 175399770), table 'Encuestas' (2nd table) row {int(rown)}, "
               f"via {EFR}; pollster as printed: '{praw}'" + (f" (client/outlet: {client})" if client else ""))
        if date.startswith("M"):
            r["field_start"] = r["field_end"] = date[1:]
            src += "; the table's date column is the publication date and gives only the month, entered as the fieldwork month"
        else:
            r["published"] = date
            src += "; the table's date column is the publication date"
        t = sum(v for k, v in r.items() if k in cands + ["other", "undecided"] and v is not None)
        if flag == "efectiva":
            r["basis"] = "effective"
            src += "; basis effective: candidates (+ others) add to ~100 and no undecided share is given"
        elif flag == "bruta":
            r["basis"] = "raw"
            src += "; basis raw: the row includes the undecided share"
        elif flag == "incompleta":
            r["partial"] = 1
            if r["undecided"] is not None or t < 90:
                r["basis"] = "raw"
                src += f"; partial: the published options add to {t:g}; basis raw inferred ({'undecided share given' if r['undecided'] is not None else 'total well below 100'})"
            else:
                r["basis"] = "effective"
                src += f"; partial: the published options add to {t:g} (not every option reported); basis effective inferred from the total"
        elif flag == "inconsistente":
            r["basis"] = "raw"
            r["tolerance"] = 7.5
            src += f"; the row as published adds to {t:g} (inconsistent); kept as published with tolerance 7.5"
        if ref:
            src += f"; poll ref {ref}"
        r["source"] = src
        if r["basis"] == "effective" and not r.get("partial") and abs(t - 100) > 2.5:
            r["partial"] = 1
            src += f"; partial: the published options add to {t:g} (a minor candidate is not reported)"
            r["source"] = src
        if r["basis"] == "raw" and not r.get("partial") and not r.get("tolerance"):
            assert abs(t - 100) <= 2.5, (rown, t)
        rows.append(r)
    en_names = {"6": "Alduncin y Asociados", "8": "Indemerc", "9": "Marketing Político", "15": "El Universal",
                "17": "El Universal", "18": "Parametría", "19": "BGC Ulises Beltrán", "21": "Consulta Mitofsky",
                "22": "GEA-ISA", "31": "Parametría", "34": "Arcop", "36": "Ipsos-Bimsa", "44": "GEA-ISA",
                "47": "TV Azteca", "49": "La Jornada", "51": "Milenio Diario (firm not named)", "52": "Univision"}
    txt = (HERE / "en2006_2012.txt").read_text(encoding="utf-8").split("# en.wikipedia '2012")[0]
    for line in txt.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rown, praw, date, amlo, cal, mad, flag = line.split("|")
        if rown not in en_names:
            continue  # duplicates of es rows, or broken (see README)
        r = {"pollster": en_names[rown], "published": date, "amlo": num(amlo), "calderon": num(cal), "madrazo": num(mad), "partial": 1}
        t = r["amlo"] + r["calderon"] + r["madrazo"]
        r["basis"] = "effective" if t >= 90 else "raw"
        r["source"] = (f"en.wikipedia '2006 Mexican general election' (oldid 1374404132), table 'Presidential candidates > Opinion polls' row {int(rown)}, "
                       f"via {EFR} (an English row the scrape did not match to a Spanish one); pollster as printed: '{praw}'; "
                       f"date = publication date; only López Obrador, Calderón and Madrazo are given (partial); they add to {t:g}, "
                       f"so basis {r['basis']} is inferred from the total")
        rows.append(r)
    return write(2006, cands, rows), cands

# ------------------------------------------------------------------ 2012
ADN_NAMES = {"Milenio-GEA ISA": "GEA-ISA (Milenio tracking)", "GEA-ISA": "GEA-ISA", "Consulta Mitofsky": "Consulta Mitofsky",
             "El Sol de México-Parametría": "Parametría", "Parametría": "Parametría",
             "El Universal-Buendía y Laredo": "Buendía & Laredo", "Ipsos-Bimsa": "Ipsos-Bimsa",
             "Grupo Fórmula-Con Estadística": "Con Estadística", "Grupo Reforma": "Reforma",
             "SDP Noticias-Covarrubias": "Covarrubias y Asociados", "Excélsior-Ulises Beltrán": "BGC Ulises Beltrán",
             "UNO TV-María de las Heras": "Demotecnia (María de las Heras)"}
CAMPAIGN_2012 = dt.date(2011, 10, 7)
TRACKER_KEEP_ENDS = {dt.date(2012, 6, 27) - dt.timedelta(days=7 * k) for k in range(15)}

def d2(s):
    d, m, y = s.split("/")
    y = int(y); y = 2000 + y if y < 100 else y
    return dt.date(y, int(m), int(d))

def build_2012(stats):
    cands = ["epn", "amlo", "jvm", "quadri"]
    def load(kind):
        rdr = list(csv.reader(io.StringIO(git_show(f"data/polls-adn-{kind}.csv"))))
        out = {}
        for i, row in enumerate(rdr[1:], start=2):
            start, end, pol, n, lev, err, epn, jvm, amlo, gqt, nr, lead = row
            k = (pol, d2(start), d2(end))
            rec = dict(line=i, pol=pol, start=d2(start), end=d2(end), n=int(n), lev=lev, epn=num(epn), jvm=num(jvm),
                       amlo=num(amlo), gqt=num(gqt), nr=num(nr))
            if k in out:
                same = all(out[k][c] == rec[c] for c in ("epn", "jvm", "amlo", "gqt", "nr", "n"))
                stats.setdefault("dups", []).append((kind, k, same, out[k]["line"], i))
                continue
            out[k] = rec
        return out
    gross, eff = load("gross"), load("effective")
    keys = sorted(set(gross) | set(eff), key=lambda k: (k[2], k[0]))
    rows = []
    for k in keys:
        pol, start, end = k
        g, e = gross.get(k), eff.get(k)
        rec, kind = (g, "gross") if g else (e, "effective")
        if end < CAMPAIGN_2012:
            stats["pre_campaign_dropped"] = stats.get("pre_campaign_dropped", 0) + 1
            continue
        if pol == "Milenio-GEA ISA" and end not in TRACKER_KEEP_ENDS:
            stats["tracker_thinned"] = stats.get("tracker_thinned", 0) + 1
            continue
        fs, fe = start, end
        note = ""
        if pol == "El Universal-Buendía y Laredo" and start == dt.date(2012, 3, 12) and end == dt.date(2012, 3, 16):
            fs, fe = dt.date(2012, 4, 12), dt.date(2012, 4, 16)
            note = ("; ADN lists this poll as 12-16 Mar 2012; diegovalle's src/clean.R corrects it to 12-16 Apr 2012 "
                    "('The March Buendía y Laredo poll should really be April'), and es.wikipedia files the same effective figures "
                    "(54.3/22.9/21.4/1.4) under April 2012 - the April dates are used")
        r = {"pollster": ADN_NAMES[pol], "field_start": fs.isoformat(), "field_end": fe.isoformat(), "sample_size": rec["n"],
             "mode": "face_to_face" if rec["lev"] == "Vivienda" else "",
             "epn": rec["epn"], "jvm": rec["jvm"], "amlo": rec["amlo"], "quadri": rec["gqt"]}
        if kind == "gross":
            r["basis"] = "raw"; r["undecided"] = rec["nr"]
            src = (f"ADN Político 'encuesta de encuestas' (adnpolitico.com/encuestas), gross-preference table as archived in GitHub "
                   f"diegovalle/Elections-2012 @{DV_COMMIT[:8]}, data/polls-adn-gross.csv line {rec['line']} "
                   f"('{pol}'); undecided = 'No respuesta'")
            if e:
                src += f"; the effective table (data/polls-adn-effective.csv line {e['line']}) gives {fmt(e['epn'])}/{fmt(e['amlo'])}/{fmt(e['jvm'])}/{fmt(e['gqt']) or '-'} (EPN/AMLO/JVM/GQT)"
        else:
            r["basis"] = "effective"
            src = (f"ADN Político 'encuesta de encuestas' (adnpolitico.com/encuestas), effective-preference table as archived in GitHub "
                   f"diegovalle/Elections-2012 @{DV_COMMIT[:8]}, data/polls-adn-effective.csv line {rec['line']} "
                   f"('{pol}'); no gross figures in the gross table; undecided not given")
        src += "; mode: ADN 'Levantamiento: Vivienda' (household interviews)"
        if rec["gqt"] is None:
            src += "; Quadri 'ND' (not offered)"
        if pol == "Milenio-GEA ISA":
            src += ("; daily 3-day rolling tracker (Milenio): thinned to one release per week, the releases ending on Wednesdays "
                    "(27 Jun back to 21 Mar 2012), so that kept windows do not overlap")
        if fe < dt.date(2012, 2, 5):
            src += "; fielded before Vázquez Mota won the PAN nomination (5 Feb 2012): trial heat with the eventual candidates as listed by ADN"
        src += note
        r["source"] = src
        t = total(r, cands)
        if abs(t - 100) > 2.5:
            raise SystemExit(f"2012 ADN sum {t} {k}")
        rows.append(r)
    # Indemerc / Votia / Mercaei from diegovalle data/missing-adn.csv
    rdr = list(csv.DictReader(io.StringIO(git_show("data/missing-adn.csv"))))
    for i, m in enumerate(rdr, start=2):
        r = {"pollster": m["pollster"], "field_start": m["start"], "field_end": m["end"], "sample_size": int(m["size"]),
             "basis": "effective", "epn": round(float(m["epn"]) * 100, 4), "jvm": round(float(m["jvm"]) * 100, 4),
             "amlo": round(float(m["amlo"]) * 100, 4), "quadri": round(float(m["gqt"]) * 100, 4)}
        if m["no.answer"] not in ("NA", ""):
            r["undecided"] = round(float(m["no.answer"]) * 100, 4)
        r["source"] = (f"GitHub diegovalle/Elections-2012 @{DV_COMMIT[:8]}, data/missing-adn.csv line {i} (polls the author added because "
                       f"ADN Político's table lacked them; the file gives no primary link); shares given as fractions, x100 here; "
                       f"effective (they add to 1); undecided = 'no.answer' x100 where given")
        rows.append(r)
    # es.wikipedia additions (houses or polls absent from ADN)
    es = {r[0]: r for r in parse_pipe(HERE / "es2012.txt")}
    add = {"4": "Covarrubias y Asociados", "5": "Gii360", "11": "Gii360", "10": "Demotecnia (María de las Heras)"}
    for rown, name in add.items():
        f = es[rown]
        _, praw, pol, month, jvm, epn, amlo, q, nota, ref = f
        r = {"pollster": name, "field_start": month, "field_end": month, "basis": "effective",
             "jvm": num(jvm), "epn": num(epn), "amlo": num(amlo), "quadri": num(q)}
        r["source"] = (f"es.wikipedia 'Elecciones federales de México de 2012' (oldid 173784466), table 'Resultados de compañías encuestadoras' "
                       f"row {int(rown)}, via {EFR}; pollster as printed: '{praw}'; the page states this table is effective preference "
                       f"(undecided removed); date column = publication month only, entered as the fieldwork month"
                       + (f"; table note: '{nota}'" if nota else "") + (f"; poll ref {ref}" if ref else "")
                       + ("; Quadri not listed ('-')" if r["quadri"] is None else ""))
        t = total(r, cands)
        assert abs(t - 100) <= 2.5, (rown, t)
        rows.append(r)
    # en.wikipedia additions: Berumen
    for rown, jvm, epn, amlo, q, ref in (("32", 20.7, 30.9, 31.8, None, "https://www.slideshare.net/tercote/encuesta-berumen-12-de-junio?from=ss_embed"),
                                        ("34", 18.0, 33.4, 27.3, 1.5, "https://web.archive.org/web/20120624235712/http://www.adnpolitico.com/2012/2012/06/22/berumen-y-el-oue-presentan-resultados-completos-de-su-encuesta")):
        r = {"pollster": "Berumen y Asociados", "field_start": "2012-06", "field_end": "2012-06", "basis": "raw", "partial": 1,
             "jvm": jvm, "epn": epn, "amlo": amlo, "quadri": q, "poll_id": f"en2012-r0{rown}"}
        r["source"] = (f"en.wikipedia '2012 Mexican general election' (oldid 1371061971), table 'Opinion polls' row {rown}, via {EFR} "
                       f"(an English row the scrape did not match to a Spanish one); table note 'Gross preference'; date column = 'June 2012' "
                       f"(month only); undecided not given, so partial=1" + ("; Quadri 'Not shown'" if q is None else "")
                       + f"; poll ref {ref}")
        rows.append(r)
    return write(2012, cands, rows), cands

if __name__ == "__main__":
    stats = {}
    r00, c00 = build_2000(); r06, c06 = build_2006(); r12, c12 = build_2012(stats)
    print(len(r00), len(r06), len(r12), stats)
