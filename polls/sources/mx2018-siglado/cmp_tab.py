import pandas as pd
t=pd.read_csv('tab_vs_cov.csv')
t=t[t._merge=='both'][['district_code','coalition','party']]
m=pd.read_csv('magar_with_cov.csv',dtype=str,keep_default_na=False)
m['district_code']=m.district_code.astype(int)
ml=m.melt(id_vars=['district_code'],value_vars=['jhh','paf','tpm'],var_name='coalition',value_name='mparty')
ml=ml[ml.mparty!='']
x=ml.merge(t,on=['district_code','coalition'],how='left')
x['party']=x.party.fillna('(absent)')
for c,g in x.groupby('coalition'):
    present=g[g.party!='(absent)']
    agree=(present.party==present.mparty).sum()
    print(c,'magar',len(g),'tab present',len(present),'agree',agree)
    print(present[present.party!=present.mparty].to_string())
