import os
from pathlib import Path
# Paths: the election folder from this script's place; the shared reference data and the clone
# of github.com/tabatatgr/backend_electoral from the environment (SHARED_DATA, TABATATGR_REPO).
HERE = Path(__file__).resolve().parent
CONGRESS = HERE.parents[1] / 'mx2018' / 'congress'
SHARED = Path(os.environ.get('SHARED_DATA', HERE.parents[3] / 'shared' / 'data'))
"""Build staging siglado files from transcribed pre-election sources (see ../README.md)."""
import pandas as pd
m = pd.read_csv('magar_transcribed.csv', dtype=str, keep_default_na=False)
m['district_code'] = m.district_code.astype(int)
cov = pd.read_csv(CONGRESS / 'district_coalitions.csv')
tab = pd.read_csv('tab_vs_cov.csv')
tab = tab[tab._merge == 'both'][['district_code', 'coalition', 'party']]
tabd = {(r.district_code, r.coalition): (r.party if isinstance(r.party, str) else '') for r in tab.itertuples()}
rows = []
for r in cov.itertuples():
    for c in ['jhh', 'paf', 'tpm']:
        if getattr(r, c) != 1:
            continue
        p = m.loc[m.district_code == r.district_code, c].iloc[0]
        assert p, (r.district_code, c)
        t = tabd.get((r.district_code, c))
        if t is None:
            s = 'E; T-absent'
        elif t == '':
            s = 'E; T-blank'
        elif t == p:
            s = 'E=T'
        elif c == 'jhh' and t == 'pan':
            s = 'E; T-artifact(pan)'
        else:
            s = f'E; T-conflict({t})'
        if r.district_code == 504 and c == 'tpm':
            s += '; DOUBT(na per INE MR-seat total)'
        rows.append((r.district_code, r.edon, r.district, c, p, s))
out = pd.DataFrame(rows, columns=['district_code', 'edon', 'district', 'coalition', 'party', 'source'])
out.to_csv('../siglado_2018_registered.csv', index=False, lineterminator='\n')
print(out.groupby('coalition').party.value_counts().unstack(fill_value=0))
print(out.source.str.split(';').str[0:2].str.join(';').value_counts())
# per-state counts (pre-election facts, for approximations)
cnt = out.groupby(['edon', 'coalition', 'party']).size().unstack(fill_value=0).reset_index()
cnt = cov[['edon', 'state_abbr']].drop_duplicates().merge(cnt, on='edon')
cnt.to_csv('../siglado_2018_counts_by_state.csv', index=False, lineterminator='\n')
# Senate
sc = pd.read_csv(CONGRESS / 'senate_coalitions.csv')
tps = pd.read_csv('tab_sen_paf.csv')
tpd = {(r.edon, r.FORMULA): r.GRUPO_PARLAMENTARIO.lower() for r in tps.itertuples()}
# La Jornada 2017-12-16: PVEM f1 Cam,Col,Cps,Oax; f2 Cps,Yuc,Zac; NA f1 Mor,QRoo; f2 Cam,Hgo
J = {(4, 1): 'pvem', (6, 1): 'pvem', (7, 1): 'pvem', (20, 1): 'pvem', (7, 2): 'pvem', (31, 2): 'pvem', (32, 2): 'pvem',
     (17, 1): 'na', (23, 1): 'na', (4, 2): 'na', (13, 2): 'na'}
srows = []
for r in sc.itertuples():
    for c in ['jhh', 'paf', 'tpm']:
        if getattr(r, c) != 1:
            continue
        for f in (1, 2):
            if c == 'paf':
                p = tpd.get((r.edon, f), '')
                s = 'T-sen' if p else 'NOT FOUND (T-sen lacks row)'
            elif c == 'tpm':
                if (r.edon, f) in J:
                    p, s = J[(r.edon, f)], 'LJ-2017-12-16'
                else:
                    p, s = 'pri', 'INFERRED pri (LJ-2017-12-16 lists every PVEM/NA formula)'
            else:
                p, s = '', 'NOT FOUND'
                if r.edon == 6:
                    s = 'NOT FOUND (LJ-2018-01-21: PT got a Colima formula; which one not stated)'
            srows.append((r.edon, c, f, p, s))
sen = pd.DataFrame(srows, columns=['edon', 'coalition', 'formula', 'party', 'source'])
sen.to_csv('../senate_formulas_2018_registered.csv', index=False, lineterminator='\n')
print(sen.groupby('coalition').apply(lambda g: pd.Series({'slots': len(g), 'found': (g.party != '').sum(), 'inferred': g.source.str.startswith('INFERRED').sum()})))
print(sen[sen.party != ''].groupby(['coalition', 'party']).size())
