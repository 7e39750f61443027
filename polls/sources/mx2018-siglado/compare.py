import os
from pathlib import Path
# Paths: the election folder from this script's place; the shared reference data and the clone
# of github.com/tabatatgr/backend_electoral from the environment (SHARED_DATA, TABATATGR_REPO).
HERE = Path(__file__).resolve().parent
CONGRESS = HERE.parents[1] / 'mx2018' / 'congress'
SHARED = Path(os.environ.get('SHARED_DATA', HERE.parents[3] / 'shared' / 'data'))
import pandas as pd, unicodedata, re
def norm(s):
    s=unicodedata.normalize('NFKD',str(s)).encode('ascii','ignore').decode().upper()
    return re.sub(r'\s+','',s)
NAME={'AGUASCALIENTES':1,'BAJACALIFORNIA':2,'BAJACALIFORNIASUR':3,'CAMPECHE':4,'COAHUILA':5,'COAHUILADEZARAGOZA':5,'COLIMA':6,'CHIAPAS':7,'CHIHUAHUA':8,'CIUDADDEMEXICO':9,'DURANGO':10,'GUANAJUATO':11,'GUERRERO':12,'HIDALGO':13,'JALISCO':14,'MEXICO':15,'ESTADODEMEXICO':15,'MICHOACAN':16,'MORELOS':17,'NAYARIT':18,'NUEVOLEON':19,'OAXACA':20,'PUEBLA':21,'QUERETARO':22,'QUINTANAROO':23,'SANLUISPOTOSI':24,'SINALOA':25,'SONORA':26,'TABASCO':27,'TAMAULIPAS':28,'TLAXCALA':29,'VERACRUZ':30,'YUCATAN':31,'ZACATECAS':32}
COAL={'JUNTOS HAREMOS HISTORIA':'jhh','POR MEXICO AL FRENTE':'paf','TODOS POR MEXICO':'tpm'}
import io,subprocess
RAW=subprocess.run(['git','-C',os.environ['TABATATGR_REPO'],'show','280f0a1:data/siglado-diputados-2018.csv'],capture_output=True).stdout
d=pd.read_csv(io.BytesIO(RAW),na_values=['\\N'],keep_default_na=False)
d['edon']=d.entidad.map(lambda s: NAME[norm(s)])
d['district_code']=d.edon*100+d.distrito
d['coalition']=d.coalicion.map(COAL)
d['party']=d.grupo_parlamentario.fillna('').str.lower()
cov=pd.read_csv(CONGRESS / 'district_coalitions.csv')
print('dups', d.duplicated(['district_code','coalition']).sum())
m=cov.melt(id_vars=['district_code','edon','state_abbr','district'],value_vars=['jhh','paf','tpm'],var_name='coalition',value_name='ran')
x=m.merge(d[['district_code','coalition','party']],on=['district_code','coalition'],how='outer',indicator=True)
print(pd.crosstab(x.coalition,[x.ran,x._merge]))
# listed but not ran
print(x[(x._merge!='left_only')&(x.ran==0)][['district_code','coalition','party']])
w=pd.read_csv(SHARED / 'mx-results/siglado_2018.csv',keep_default_na=False)
LAB={'pt-morena-pes':'jhh','pan-prd-mc':'paf','pri-pvem-na':'tpm'}
w['coalition']=w.winner_label_final.map(LAB)
w=w[w.coalition.notna()]
y=w.merge(d[['district_code','coalition','party']],on=['district_code','coalition'],how='left')
y['party']=y.party.fillna('(missing)')
print(pd.crosstab([y.coalition,y.siglado_party],y.party))
print(y[(y.siglado_party!=y.party)][['district_code','coalition','winner_name','siglado_party','party']].to_string())
x.to_csv('tab_vs_cov.csv',index=False)
