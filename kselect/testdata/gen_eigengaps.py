"""Oracle of kselect.TestEigengapsOracle: the plain and Ward-realised eigengaps
of a fixed X (30 x 4, float32), with SciPy (Ward cuts) and NumPy (Laplacian
eigendecomposition). Run with python3 (numpy, scipy); paste the two lines
into the test."""
import numpy as np, sys
from scipy.cluster.hierarchy import linkage, fcluster
from scipy.spatial.distance import pdist, squareform
n,d=30,4
X=np.array([[np.sin(1.3*i+0.7*j*j)+2.0*(i%3) for j in range(d)] for i in range(n)],dtype=np.float32).astype(np.float64)
Z=linkage(X,'ward')
sd=X.std(0); Xs=(X-X.mean(0))/sd
D=squareform(pdist(Xs)); knn=min(max(10,int(round(np.sqrt(n)))),n-1)
order=np.argsort(D+np.diag(np.full(n,np.inf)),1,kind='stable'); sig=np.maximum(D[np.arange(n),order[:,6]],1e-12)
W=np.zeros((n,n))
for i in range(n):
    for j in order[i,:knn]: W[i,j]=W[j,i]=np.exp(-D[i,j]**2/(sig[i]*sig[j]))
deg=W.sum(1); L=np.eye(n)-W/np.sqrt(np.outer(deg,deg)); ev,V=np.linalg.eigh(L)
out=[]
for k in range(2,16):
    c=fcluster(Z,k,'maxclust')-1
    H=np.zeros((n,k))
    for l in range(k):
        m=c==l; H[m,l]=np.sqrt(deg[m]); H[:,l]/=np.linalg.norm(H[:,l])
    a=min(max(((np.linalg.norm(V[:,:k].T@H)**2)-1)/(k-1),0),1)
    out.append((ev[k]-ev[k-1], (ev[k]-ev[k-1])*a))
print('eigengap', ', '.join('%.12g'%o[0] for o in out))
print('ward', ', '.join('%.12g'%o[1] for o in out))
