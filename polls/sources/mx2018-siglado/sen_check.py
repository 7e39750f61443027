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
    return re.sub(r'[^A-Z]','',s)
NAME={'AGUASCALIENTES':1,'BAJACALIFORNIA':2,'BAJACALIFORNIASUR':3,'CAMPECHE':4,'COAHUILA':5,'COLIMA':6,'CHIAPAS':7,'CHIHUAHUA':8,'CIUDADDEMEXICO':9,'DURANGO':10,'GUANAJUATO':11,'GUERRERO':12,'HIDALGO':13,'JALISCO':14,'MEXICO':15,'MICHOACAN':16,'MORELOS':17,'NAYARIT':18,'NUEVOLEON':19,'OAXACA':20,'PUEBLA':21,'QUERETARO':22,'QUINTANAROO':23,'SANLUISPOTOSI':24,'SINALOA':25,'SONORA':26,'TABASCO':27,'TAMAULIPAS':28,'TLAXCALA':29,'VERACRUZ':30,'YUCATAN':31,'ZACATECAS':32}
import io; import subprocess
RAW=subprocess.run(['git','-C',os.environ['TABATATGR_REPO'],'show','11d2d5b:data/ine_cg2018_senado_siglado_long.csv'],capture_output=True).stdout
t=pd.read_csv(io.StringIO(RAW.decode('ascii','ignore')))
K={re.sub('[AEIOU]','',k):v for k,v in NAME.items()}; t['edon']=t.ENTIDAD_ASCII.map(lambda s: K[re.sub('[AEIOU]','',norm(s))])
print(t.groupby('edon').size().to_dict())
print((t.GRUPO_PARLAMENTARIO==t.PARTIDO_ORIGEN).all())
w=pd.read_csv(CONGRESS / 'senate_formulas.csv')
w=w[w.coalition=='paf']
x=w.merge(t[['edon','FORMULA','GRUPO_PARLAMENTARIO']].rename(columns={'FORMULA':'formula'}),on=['edon','formula'],how='left')
print(x.to_string())
t[['edon','FORMULA','GRUPO_PARLAMENTARIO']].to_csv('tab_sen_paf.csv',index=False)
