import os
from pathlib import Path
# Paths: the election folder from this script's place; the shared reference data and the clone
# of github.com/tabatatgr/backend_electoral from the environment (SHARED_DATA, TABATATGR_REPO).
HERE = Path(__file__).resolve().parent
CONGRESS = HERE.parents[1] / 'mx2018' / 'congress'
SHARED = Path(os.environ.get('SHARED_DATA', HERE.parents[3] / 'shared' / 'data'))
import pandas as pd
m=pd.read_csv('magar_transcribed.csv',dtype=str,keep_default_na=False)
m['district_code']=m.district_code.astype(int)
cov=pd.read_csv(CONGRESS / 'district_coalitions.csv')
x=cov.merge(m,on='district_code',how='outer',indicator=True)
print(x._merge.value_counts())
for c in ['jhh','paf','tpm']:
    bad=x[(x[c]==1)!=(x[c+'_y' if c+'_y' in x else c].astype(str)!='')] if False else None
# rename
x=x.rename(columns={'jhh_x':'jhh_ran','paf_x':'paf_ran','tpm_x':'tpm_ran','jhh_y':'jhh','paf_y':'paf','tpm_y':'tpm'})
for c in ['jhh','paf','tpm']:
    bad=x[(x[c+'_ran']==1)!=(x[c]!='')]
    print(c,'ran',int(x[c+'_ran'].sum()),'listed',int((x[c]!='').sum()),'mismatch',bad.district_code.tolist())
    print(x[x[c]!=''][c].value_counts().to_dict())
x.to_csv('magar_with_cov.csv',index=False)
# winners
w=pd.read_csv(SHARED / 'mx-results/siglado_2018.csv',keep_default_na=False)
LAB={'pt-morena-pes':'jhh','pan-prd-mc':'paf','pri-pvem-na':'tpm'}
w=w.merge(x[['district_code','jhh','paf','tpm']],on='district_code')
def seat(r):
    l=LAB.get(r.winner_label_final)
    return r[l] if l else r.winner_label_final
w['seat_party']=w.apply(seat,axis=1)
print('MR seats by party using Magar-candidates siglado:',w.seat_party.value_counts().to_dict())
print('INE official MR: morena 106 pan 40 pt 58 pes 56 pri 7 mc 17 prd 9 pvem 5 na 2')
d=w[(w.winner_label_final.isin(LAB))&(w.seat_party!=w.siglado_party)]
print(d[['district_code','winner_label_final','winner_name','siglado_party','seat_party']].to_string())
